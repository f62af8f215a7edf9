// Applying a release on a server someone else can write to: a planted symlink at a
// staging name, a directory in the root that links out of it, two pulls started at once,
// a lock held by another pull, a full disk and a read-only state directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { smallRelease, scratchDir } from './hostile-helpers.js';
import { prng, pullArgs, runAgent, snapshot, statusOf } from './helpers.js';
import { publish } from '../../builder/updates/publish.js';
import { needs, rootOnly } from '../helpers/needs.js';

async function setup(t: import('node:test').TestContext, tmpfsState?: string) {
  const rel = await smallRelease(4096);
  const root = scratchDir('xs-root-');
  const state = scratchDir('xs-state-');
  const outside = scratchDir('xs-outside-');
  let mounted = false;
  t.after(async () => {
    if (mounted) execFileSync('umount', [state]);
    for (const d of [root, state, outside]) rmSync(d, { recursive: true, force: true });
    await rel.cleanup();
  });
  if (tmpfsState) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsState}`, 'tmpfs', state], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // The caller asked needs() for root first; a refusal here is a missing permission.
    }
  }
  const args = (extra: string[] = []) => pullArgs(rel.repo, root, state, rel.pub, ['--no-report', ...extra]);
  return { rel, root, state, outside, args, mounted };
}

test('a symlink planted at a staging name is not written through', async (t) => {
  const { root, outside, args } = await setup(t);
  const victim = path.join(outside, 'shadow');
  writeFileSync(victim, 'root:x:0:0\n');
  chmodSync(victim, 0o600);
  mkdirSync(path.join(root, 'etc'));
  symlinkSync(victim, path.join(root, 'etc', '.motd.xs-new'));
  const r = await runAgent(args());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'root:x:0:0\n');
  assert.equal(statSync(victim).mode & 0o777, 0o600);
  assert.ok(lstatSync(path.join(root, 'etc', 'motd')).isFile(), '/etc/motd is a file, not a link');
  assert.ok(!existsSync(path.join(root, 'etc', '.motd.xs-new')));
});

test('a directory that links out of the root refuses the release; nothing outside changes', async (t) => {
  const { root, state, outside, args } = await setup(t);
  mkdirSync(path.join(root, 'library'));
  symlinkSync(outside, path.join(root, 'library', 'common'));
  const r = await runAgent(args());
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`/library/common/[^:]+: ${path.join(root, 'library', 'common')}: is a symbolic link to ${outside}, outside the root`));
  assert.match(r.stdout, /replace the link with a directory/);
  assert.deepEqual(snapshot(outside), {});
  assert.equal(statusOf(state).result, 'refused');
  assert.ok(!existsSync(path.join(root, 'etc', 'motd')), 'nothing was applied');
});

test('links that stay inside the root are followed', async (t) => {
  const { root, args } = await setup(t);
  mkdirSync(path.join(root, 'srv', 'lib'), { recursive: true });
  symlinkSync('srv/lib', path.join(root, 'library'));
  const r = await runAgent(args());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(existsSync(path.join(root, 'srv', 'lib', 'common', 'index.html')));
});

/** Two pulls at once into fresh directories; how many applied the release. */
async function race(rel: { repo: string; pub: string }): Promise<{ applied: number; outputs: string[] }> {
  const root = scratchDir('xs-root-');
  const state = scratchDir('xs-state-');
  try {
    const runs = await Promise.all([0, 1].map(() => runAgent(pullArgs(rel.repo, root, state, rel.pub, ['--no-report']))));
    const outputs = runs.map((r) => r.stdout + r.stderr);
    return { applied: outputs.filter((o) => /release 1 \(2026\.1\) applied/.test(o)).length, outputs };
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

test('two pulls started together: exactly one applies (12 trials)', async (t) => {
  const { rel } = await setup(t);
  for (let i = 0; i < 12; i++) {
    const r = await race(rel);
    assert.equal(r.applied, 1, `trial ${i}:\n${r.outputs.join('\n---\n')}`);
    const other = r.outputs.find((o) => !/release 1 \(2026\.1\) applied/.test(o))!;
    assert.match(other, /another pull is running( \(pid \d+\))?: it holds|release 1 is current/);
  }
});

test('a held lock stops a pull even when the lock file is empty; a dead holder\'s lock is taken', async (t) => {
  const { root, state, args } = await setup(t);
  const lock = path.join(state, 'pull.lock');
  writeFileSync(lock, '');
  // Another process holds the flock; its file is empty (as while a holder starts up).
  const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore', detached: true });
  const release = async () => {
    try {
      process.kill(-holder.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    if (holder.exitCode === null && holder.signalCode === null) await new Promise((r) => holder.once('close', r));
  };
  t.after(release);
  await waitHeld(lock);
  const busy = await runAgent(args());
  assert.equal(busy.code, 1, busy.stdout + busy.stderr);
  assert.match(busy.stderr, new RegExp(`another pull is running: it holds ${lock}; this pull did nothing`));
  assert.ok(!existsSync(path.join(state, 'status.json')), 'the running pull\'s status is left alone');
  assert.deepEqual(snapshot(root), {});
  await release();
  writeFileSync(lock, '999999\n'); // what a killed pull leaves: its pid, long gone
  const ok = await runAgent(args());
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(statusOf(state).result, 'applied');
});

/** Until another process holds the flock on `file`. */
async function waitHeld(file: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('flock', ['--nonblock', file, 'true'], { stdio: 'ignore' });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing took the lock on ${file}`);
}

test('a full state disk: a message naming the state directory, and status.json does not say applied', async (t) => {
  if (!needs(t, rootOnly('mount a small tmpfs'))) return;
  const { rel, root, state, args, mounted } = await setup(t, '1m');
  if (!needs(t, mounted ? undefined : 'cannot mount a tmpfs here')) return;
  assert.equal((await runAgent(args())).code, 0);
  assert.equal(statusOf(state).result, 'applied');
  writeFileSync(path.join(rel.lib, 'data.bin'), prng('second', 300 * 1024));
  await publish({ site: rel.site, repo: rel.repo, keyFile: rel.key });
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(state, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
  } catch {
    // dd stops with ENOSPC: the disk is full, as wanted.
  }
  const r = await runAgent(args());
  assert.equal(r.code, 1, r.stdout + r.stderr);
  console.log(`# disk full: ${r.stdout.split('\n').find((l) => l.includes('pull failed'))}`);
  assert.match(r.stdout, new RegExp(`${state}[^:]*: disk full`));
  assert.doesNotMatch(r.stdout + r.stderr, /^ENOSPC|\n\s+at /m);
  const status = existsSync(path.join(state, 'status.json')) ? statusOf(state) : undefined;
  assert.notEqual(status?.result, 'applied', 'status.json must not claim the failed run applied');
  assert.equal(readFileSync(path.join(root, 'library/common/data.bin')).length, 4096, 'release 1 stays in place');
});

test('a read-only state directory: a message naming it, not a bare ENOENT', async (t) => {
  if (!needs(t, rootOnly('mount a small tmpfs'))) return;
  const { rel, root, state, args, mounted } = await setup(t, '1m');
  if (!needs(t, mounted ? undefined : 'cannot mount a tmpfs here')) return;
  execFileSync('mount', ['-o', 'remount,ro', state]);
  const r = await runAgent(args());
  assert.equal(r.code, 1, r.stdout + r.stderr);
  console.log(`# read-only: ${r.stderr.trim()}`);
  assert.match(r.stderr, new RegExp(`${state}: read-only file system \\(the update state directory\\); remount it read-write`));
  // A state directory still to be made on a read-only disk (mkdir -p says ENOENT there).
  const sub = path.join(state, 'updates');
  const r2 = await runAgent(pullArgs(rel.repo, root, sub, rel.pub, ['--no-report']));
  assert.equal(r2.code, 1, r2.stdout + r2.stderr);
  assert.match(r2.stderr, new RegExp(`${sub}: read-only file system`));
  assert.doesNotMatch(r2.stderr, /ENOENT/);
});
