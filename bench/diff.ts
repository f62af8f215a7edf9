// Benchmark for `xsbuild diff`: two ~2 GiB ISOs, mostly library content, differing in a
// few files; times the diff with manifests, without them (--scan: hash every file), and
// diffoscope on the same pair, in one run.
//
//   node dist/bench/diff.js [--gib 2] [--dir /var/tmp] [--diffoscope-timeout 1200] [--keep]
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { humanSize } from '../lib/size.js';
import { makeIso, writeManifest, writeTree, type ReleaseMeta } from '../test/diff/fixtures.js';

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    dir: { type: 'string', default: tmpdir() },
    'diffoscope-timeout': { type: 'string', default: '1200' },
    keep: { type: 'boolean', default: false },
  },
});
const CLI = fileURLToPath(new URL('../builder/cli.js', import.meta.url));
const FILE = 16 << 20;

/**
 * Content that is distinct per file but cheap to make: one random 16 MiB block, with
 * the file number and fresh random bytes stamped at the start of every MiB.
 */
function contentFor(base: Buffer, n: number, salt = 0): Buffer {
  const b = Buffer.from(base);
  for (let off = 0; off < b.length; off += 1 << 20) {
    b.writeUInt32LE(n, off);
    b.writeUInt32LE(salt, off + 4);
    randomBytes(56).copy(b, off + 8);
  }
  return b;
}

async function timed(label: string, cmd: string, args: string[], timeoutS?: number): Promise<{ label: string; seconds: number; exit: number | string }> {
  const t0 = process.hrtime.bigint();
  const r = await execa(cmd, args, { reject: false, timeout: timeoutS ? timeoutS * 1000 : undefined, stdout: 'ignore', stderr: 'pipe' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const exit = r.timedOut ? `timed out after ${timeoutS} s` : (r.exitCode ?? String(r.signal));
  if (typeof exit === 'number' && exit > 1) process.stderr.write(`${label}: exit ${exit}: ${r.stderr}\n`);
  return { label, seconds, exit };
}

async function linkTree(from: string, to: string): Promise<void> {
  for (const e of await readdir(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory()) {
      await mkdir(b, { recursive: true });
      await linkTree(a, b);
    } else await link(a, b);
  }
}

async function main(): Promise<void> {
  const total = Number(values.gib) * 1024 ** 3;
  const work = join(values.dir!, `xsdiff-bench-${process.pid}`);
  await mkdir(work, { recursive: true });
  const t0 = Date.now();
  try {
    const base = randomBytes(FILE);
    const count = Math.max(4, Math.round(total / FILE));
    const A = join(work, 'A');
    const B = join(work, 'B');
    process.stdout.write(`generating ${count} content files of ${humanSize(FILE)} in ${work}\n`);
    for (let i = 0; i < count; i++) {
      const p = join(A, `library/content/c${String(i).padStart(4, '0')}.bin`);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, contentFor(base, i));
    }
    const small: Record<string, string> = { 'ks.cfg': 'text\nlang es_AR.UTF-8\ntimezone UTC\n', 'isolinux/isolinux.cfg': 'label linux\n  kernel /vmlinuz\n  append initrd=/initrd.img quiet\n' };
    for (let i = 0; i < 500; i++) small[`docs/page-${i}.html`] = `<p>page ${i}</p>\n`;
    await writeTree(A, small);

    // B shares A's bytes through hard links, except for the files that change.
    await mkdir(B, { recursive: true });
    await linkTree(A, B);
    const replace = async (rel: string, data: Buffer | string) => {
      await unlink(join(B, rel)).catch(() => undefined);
      await mkdir(dirname(join(B, rel)), { recursive: true });
      await writeFile(join(B, rel), data);
    };
    for (const i of [1, 2, 3, 4]) await replace(`library/content/c${String(i).padStart(4, '0')}.bin`, contentFor(base, i, 1));
    for (const i of [count, count + 1]) await replace(`library/content/c${String(i).padStart(4, '0')}.bin`, contentFor(base, i));
    for (const i of [5, 6]) await unlink(join(B, `library/content/c${String(i).padStart(4, '0')}.bin`));
    for (const i of [7, 8]) {
      const from = join(B, `library/content/c${String(i).padStart(4, '0')}.bin`);
      await link(from, join(B, `library/content/renamed-${i}.bin`));
      await unlink(from);
    }
    await replace('ks.cfg', 'text\nlang es_AR.UTF-8\ntimezone America/Argentina/La_Rioja\n');
    await replace('isolinux/isolinux.cfg', 'label linux\n  kernel /vmlinuz\n  append initrd=/initrd.img quiet inst.text\n');

    const meta = (release: string, args: string[]): ReleaseMeta => ({
      site: 'bench', release, volumeId: 'XS-BENCH',
      layers: [{ name: 'xs-core', version: release, contentSha256: '0'.repeat(64) }],
      packages: ['@core'],
      bootEntries: [{ config: 'isolinux/isolinux.cfg', label: 'linux', kernel: '/vmlinuz', initrd: ['/initrd.img'], args }],
      library: ['/library'],
    });
    process.stdout.write('writing manifests (hashing both trees)\n');
    await writeManifest(A, meta('1', ['quiet']));
    await writeManifest(B, meta('2', ['quiet', 'inst.text']));
    process.stdout.write('mastering two ISOs with xorriso\n');
    const isoA = join(work, 'a.iso');
    const isoB = join(work, 'b.iso');
    await makeIso(A, isoA, 'XS-BENCH');
    await makeIso(B, isoB, 'XS-BENCH');
    // The trees are no longer needed; free the disk before diffoscope unpacks anything.
    await rm(A, { recursive: true, force: true });
    await rm(B, { recursive: true, force: true });
    const sa = (await stat(isoA)).size;
    const sb = (await stat(isoB)).size;
    process.stdout.write(`A ${humanSize(sa)}, B ${humanSize(sb)}; setup took ${((Date.now() - t0) / 1000).toFixed(0)} s\n\n`);

    const node = process.execPath;
    const results = [];
    // Warm the page cache the same way for every contender: read both images once.
    await execa('cat', [isoA, isoB], { stdout: 'ignore' });
    results.push(await timed('xsbuild diff (manifests)', node, [CLI, 'diff', isoA, isoB, '--no-color']));
    results.push(await timed('xsbuild diff --json (manifests)', node, [CLI, 'diff', isoA, isoB, '--json']));
    results.push(await timed('xsbuild diff --scan (no manifests, hash all)', node, [CLI, 'diff', isoA, isoB, '--scan', '--quiet']));
    results.push(await timed('diffoscope --text', 'diffoscope', ['--text', join(work, 'diffoscope.txt'), isoA, isoB], Number(values['diffoscope-timeout'])));

    process.stdout.write(`two ISOs of ${humanSize(sa)} and ${humanSize(sb)}, warm page cache, ${(await import('node:os')).availableParallelism()} cores\n`);
    const w = Math.max(...results.map((r) => r.label.length));
    for (const r of results) process.stdout.write(`  ${r.label.padEnd(w)}  ${r.seconds.toFixed(2).padStart(8)} s   exit ${r.exit}\n`);
  } finally {
    if (!values.keep) await rm(work, { recursive: true, force: true });
  }
}

await main();
