// Whole builds through the CLI: reproducible across clean clones, one build per site
// at a time, and an interrupted build leaves out/ exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir, symlink } from 'node:fs/promises';
import { pinnedRuntime } from '../../agent/runtime.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';
import { runCli } from '../helpers/project.js';
import { extractFromIso } from '../../builder/tools/xorriso.js';
import type { Manifest } from '../../builder/manifest-types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file under dir (following the netboot tree's links), relative, sorted. */
async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const st = await stat(path.join(dir, r));
    if (st.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out;
}

test('two clean clones, different umasks and times, give byte-identical ISOs and manifests', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-repro-'));
  try {
    const outs: string[] = [];
    for (const [i, umask] of ['022', '077'].entries()) {
      const clone = path.join(tmp, `clone${i}`);
      execFileSync('git', ['clone', '-q', PROJECT_DIR, clone]);
      const out = path.join(tmp, `out${i}`);
      const r = await runCli(['build', 'rioja', '--out', out], { cwd: clone, umask, gitEpoch: true });
      assert.equal(r.code, 0, r.stderr);
      outs.push(path.join(out, 'rioja'));
      if (i === 0) await sleep(1100);
    }
    const [a, b] = outs;
    const names = (await readdir(a)).sort();
    assert.deepEqual(names, ['SHA256SUMS', 'etherboot.img', 'etherboot.iso', 'manifest.json', 'netboot', 'rioja-2026.11.iso']);
    const files = await listFiles(a);
    assert.deepEqual(files, await listFiles(b));
    for (const n of files) {
      const [x, y] = [await readFile(path.join(a, n)), await readFile(path.join(b, n))];
      assert.ok(x.equals(y), `${n} differs between the two builds`);
    }
    // The published checksums hold, and the manifest's epoch is the commit time.
    execFileSync('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: a });
    const m = JSON.parse(await readFile(path.join(a, 'manifest.json'), 'utf8')) as Manifest;
    const commit = Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: PROJECT_DIR }).toString().trim());
    assert.equal(m.sourceDateEpoch, commit);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('the Node that runs the build changes no byte: the host node and another Node on PATH give the same out/', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-hostnode-'));
  try {
    // Another Node: the pinned agent runtime (a different major than the host's here).
    const other = path.join(tmp, 'bin');
    await mkdir(other);
    const rt = await pinnedRuntime(PROJECT_DIR);
    await symlink(rt.node, path.join(other, 'node'));
    const otherVersion = execFileSync(path.join(other, 'node'), ['--version']).toString().trim();
    assert.notEqual(otherVersion, process.version, 'the second build must run on a different Node');
    const outs: string[] = [];
    for (const nodeDir of [undefined, other]) {
      const out = path.join(tmp, `out-${nodeDir ? 'other' : 'host'}`);
      const r = await runCli(['build', 'rioja', '--out', out], { nodeDir });
      assert.equal(r.code, 0, r.stderr);
      outs.push(path.join(out, 'rioja'));
    }
    const files = await listFiles(outs[0]);
    assert.deepEqual(files, await listFiles(outs[1]));
    for (const n of files) {
      assert.ok((await readFile(path.join(outs[0], n))).equals(await readFile(path.join(outs[1], n))), `${n} differs between Node ${process.version} and ${otherVersion}`);
    }
    const m = JSON.parse(await readFile(path.join(outs[0], 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(m.tools['xs-agent-runtime'], `${rt.package}@${rt.version} sha256:${rt.sha256}`);
    assert.equal(m.tools.node, undefined, 'the builder\'s own Node is not an input of the image');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('manifest: on the ISO and beside it, every file hashed, tools recorded', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-manifest-'));
  try {
    const r = await runCli(['build', 'paraguay', '--out', tmp]);
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(tmp, 'paraguay');
    const outer = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    await extractFromIso(path.join(dir, outer.iso!.name), '/.xsbuild/manifest.json', path.join(tmp, 'inner.json'));
    const inner = JSON.parse(await readFile(path.join(tmp, 'inner.json'), 'utf8')) as Manifest;
    assert.equal(inner.iso, undefined);
    assert.deepEqual({ ...outer, iso: undefined, files: undefined }, { ...inner, iso: undefined, files: undefined });
    assert.equal(outer.iso!.size, (await stat(path.join(dir, outer.iso!.name))).size);
    const paths = outer.files.map((f) => f.path);
    for (const p of ['/ks.cfg', '/images/pxeboot/vmlinuz', '/images/efiboot.img', '/isolinux/isolinux.bin', '/isolinux/boot.cat', '/.xsbuild/manifest.json', '/library/guarani/guarani.txt', '/xsbuild/root/etc/motd']) {
      assert.ok(paths.includes(p), `${p} missing from manifest files`);
    }
    assert.ok(!paths.includes('/library/comun') && paths.includes('/library/comun/matematica/tablas.txt'));
    assert.deepEqual(outer.layers.map((l) => l.name), ['xs-core', 'xs-agent', 'content-library']);
    assert.deepEqual(outer.library, [
      { dest: '/library/comun', files: 2, bytes: (await stat(path.join(PROJECT_DIR, 'overlays/library/common/index.html'))).size + 35 },
      { dest: '/library/guarani', files: 2, bytes: (await stat(path.join(PROJECT_DIR, 'overlays/library/paraguay/guarani.txt'))).size + (await stat(path.join(PROJECT_DIR, 'overlays/library/paraguay/ñandutí.txt'))).size },
    ]);
    assert.equal(outer.bootEntries.length, 6);
    for (const e of outer.bootEntries) assert.ok(e.args.includes('inst.ks=hd:LABEL=XS-PARAGUAY-2026_2:/ks.cfg') && e.args.includes('nomodeset'));
    assert.match(outer.tools.xorriso, /^\d/);
    assert.equal(outer.base.kind, 'demo');
    // UTF-8 names stay themselves in Joliet (Windows) as in Rock Ridge.
    const joliet = execFileSync('xorriso', ['-no_rc', '-local_charset', 'UTF-8', '-rockridge', 'off', '-joliet', 'on', '-indev', path.join(dir, outer.iso!.name), '-find', '/library/guarani', '-type', 'f'], { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH, LC_ALL: 'C' } }).toString();
    assert.match(joliet, /'\/library\/guarani\/ñandutí\.txt'/);
    // Library content is mapped, not copied: the ISO holds the same bytes.
    await extractFromIso(path.join(dir, outer.iso!.name), '/library/guarani/guarani.txt', path.join(tmp, 'g.txt'));
    assert.deepEqual(await readFile(path.join(tmp, 'g.txt')), await readFile(path.join(PROJECT_DIR, 'overlays/library/paraguay/guarani.txt')));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('a second concurrent build of the same site is refused; Ctrl-C leaves out/ as it was', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-lock-'));
  try {
    await mkdir(path.join(tmp, 'rioja'));
    await writeFile(path.join(tmp, 'rioja', 'previous.iso'), 'the last good release\n');
    let first: import('node:child_process').ChildProcess | undefined;
    const running = runCli(['build', 'rioja', '--out', tmp], { started: (c) => (first = c) });
    // Wait for the first build to hold the lock.
    for (let i = 0; i < 100 && !(await stat(path.join(tmp, '.rioja.lock')).catch(() => undefined)); i++) await sleep(50);
    // Held where it is (a warm build takes seconds), so the second build meets it.
    first!.kill('SIGSTOP');
    const second = await runCli(['build', 'rioja', '--out', tmp]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /another build of site rioja is running \(pid \d+\)/);
    first!.kill('SIGCONT');
    first!.kill('SIGINT');
    const r = await running;
    assert.equal(r.code, 130, `the interrupted build: ${r.stderr}`);
    assert.match(r.stderr, /interrupted by SIGINT; nothing was written/);
    assert.deepEqual(await readdir(tmp), ['rioja'], 'temp dir or lock left behind');
    assert.deepEqual(await readdir(path.join(tmp, 'rioja')), ['previous.iso']);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
