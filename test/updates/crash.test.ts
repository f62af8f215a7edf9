// kill -9 at many points of a pull (fault injection: XS_AGENT_FAULT_AT=N kills the agent
// at its N-th fault point), then a normal re-run. After every kill each target file is
// whole (old or new content, never a mix); before the commit point the previous release
// is fully in place; the re-run always ends with exactly release 2. Also: a failing
// layer script rolls the release back, and a full disk during fetch applies nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, copyFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { publish } from '../../builder/updates/publish.js';
import { makeFixture, runAgent, snapshot, pullArgs, statusOf, patchFile, addExtraLayer, siteYaml } from './helpers.js';
import { needs, rootOnly } from '../helpers/needs.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const visible = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => !path.basename(k).includes('.xs-')));

test('killed at 24 points during a pull, the next run completes; before the switch nothing changed', async (t) => {
  const f = await makeFixture({ libBytes: 1024 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const base = tmp('xs-crash-base-');
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root0 = path.join(base, 'root');
  const state0 = path.join(base, 'state');
  assert.equal((await runAgent(pullArgs(f.repo, root0, state0, f.pub))).code, 0);
  const r1 = snapshot(root0);

  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'crash test release 2\n');
  addExtraLayer(f);
  patchFile(path.join(f.lib, 'videos/big.bin'), 300_000, 5000, 'c1');
  patchFile(path.join(f.lib, 'videos/big.bin'), 800_000, 5000, 'c2');
  rmSync(path.join(f.lib, 'videos/other.bin'));
  await publish({ site, repo: f.repo, keyFile: f.key });

  // A clean run, to know release 2's result and how many fault points a pull passes.
  const count = path.join(base, 'count');
  const ref = path.join(base, 'ref');
  cpSync(base + '/root', ref + '/root', { recursive: true });
  cpSync(base + '/state', ref + '/state', { recursive: true });
  const clean = await runAgent(pullArgs(f.repo, ref + '/root', ref + '/state', f.pub), { XS_AGENT_FAULT_COUNT: count });
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  const r2 = snapshot(ref + '/root');
  assert.notDeepEqual(r2, r1);
  const points = Number(readFileSync(count, 'utf8'));
  assert.ok(points >= 24, `fault points in a pull: ${points}`);
  const allowed = new Map<string, Set<string>>();
  for (const s of [r1, r2]) for (const [k, v] of Object.entries(s)) (allowed.get(k) ?? allowed.set(k, new Set()).get(k)!).add(v);

  const seeds = [...new Set(Array.from({ length: 24 }, (_, i) => 1 + Math.floor((i * (points - 1)) / 23)))];
  assert.ok(seeds.length >= 20);
  let beforeSwitch = 0;
  for (const n of seeds) {
    const dir = tmp(`xs-crash-${n}-`);
    try {
      cpSync(root0, path.join(dir, 'root'), { recursive: true });
      cpSync(state0, path.join(dir, 'state'), { recursive: true });
      const k = await runAgent(pullArgs(f.repo, path.join(dir, 'root'), path.join(dir, 'state'), f.pub), { XS_AGENT_FAULT_AT: String(n) });
      assert.equal(k.signal, 'SIGKILL', `point ${n}: the agent was killed`);
      const after = visible(snapshot(path.join(dir, 'root')));
      for (const [file, sum] of Object.entries(after)) {
        assert.ok(allowed.get(file)?.has(sum), `point ${n}: ${file} is neither release 1 nor release 2 content`);
      }
      const journal = path.join(dir, 'state', 'journal.json');
      const phase = existsSync(journal) ? (JSON.parse(readFileSync(journal, 'utf8')).phase as string) : 'none';
      if (phase === 'prepare' || (phase === 'none' && JSON.parse(readFileSync(path.join(dir, 'state', 'current.json'), 'utf8')).signed.version === 1)) {
        assert.deepEqual(after, r1, `point ${n} (${phase}): release 1 is fully in place`);
        beforeSwitch++;
      }
      const again = await runAgent(pullArgs(f.repo, path.join(dir, 'root'), path.join(dir, 'state'), f.pub));
      assert.equal(again.code, 0, `point ${n}: re-run\n${again.stdout}${again.stderr}`);
      assert.deepEqual(snapshot(path.join(dir, 'root')), r2, `point ${n}: the re-run ends with exactly release 2 (no leftovers)`);
      assert.equal(statusOf(path.join(dir, 'state')).version, 2);
      assert.ok(!existsSync(journal));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(beforeSwitch >= 3 && beforeSwitch < seeds.length, `kills both before and after the commit point (${beforeSwitch} before)`);
});

test('a failing layer script rolls the release back; a good one runs once (chroot under --root)', async (t) => {
  if (!needs(t, rootOnly('chroot') ?? (existsSync('/bin/busybox') ? undefined : '/bin/busybox is missing (Debian package busybox-static)'))) return;
  const f = await makeFixture({ libBytes: 200 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  writeFileSync(site, siteYaml(f.pub, ['xs-core']));
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  execFileSync('chroot', [root, '/bin/busybox', '--install', '-s', '/bin']);
  mkdirSync(path.join(root, 'tmp'));
  mkdirSync(path.join(root, 'var/tmp'), { recursive: true });
  await publish({ site, repo: f.repo, keyFile: f.key });
  const a = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(a.code, 0, a.stdout + a.stderr);
  assert.match(readFileSync(path.join(root, 'etc/xs/release'), 'utf8'), /site=upd/, 'the xs-core script ran in the root');
  const good = snapshot(root);

  addExtraLayer(f, 'echo starting\nexit 3\n');
  writeFileSync(site, siteYaml(f.pub, ['xs-core', 'extra']));
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'never applied\n');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const b = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(b.code, 1, b.stdout + b.stderr);
  const s = statusOf(state);
  assert.equal(s.result, 'rolled-back');
  assert.match(s.error ?? '', /script of layer extra exited 3/);
  const after = snapshot(root);
  assert.deepEqual(after, { ...good, ...Object.fromEntries(Object.entries(after).filter(([k]) => k.startsWith('etc/xs/'))) }, 'release 1 files are back');
  assert.ok(!existsSync(path.join(root, 'etc/extra/extra.conf')));
  assert.equal(s.version, 1);

  addExtraLayer(f, 'echo ran >> /var/tmp/extra-ran\n');
  writeFileSync(site, siteYaml(f.pub, ['xs-core', 'extra']));
  await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal((await runAgent(pullArgs(f.repo, root, state, f.pub))).code, 0);
  assert.equal((await runAgent(pullArgs(f.repo, root, state, f.pub))).code, 0);
  assert.equal(readFileSync(path.join(root, 'var/tmp/extra-ran'), 'utf8'), 'ran\n', 'ran once for its release');
});

test('disk full while fetching: nothing applied, a clear error, the next pull works', async (t) => {
  if (!needs(t, rootOnly('mount a small tmpfs'))) return;
  const f = await makeFixture({ libBytes: 1024 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', state], { stdio: 'ignore' });
  } catch {
    needs(t, 'cannot mount a tmpfs here');
    return;
  }
  t.after(() => {
    execFileSync('umount', [state]);
    rmSync(state, { recursive: true, force: true });
  });
  const r = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /disk full while storing fetched chunks/);
  assert.deepEqual(snapshot(root), {});
  execFileSync('mount', ['-o', 'remount,size=64m', state]);
  const ok = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.ok(existsSync(path.join(root, 'library/common/videos/big.bin')));
  void unlinkSync;
});
