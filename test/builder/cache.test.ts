// The build's caches: stage outputs kept by their inputs' hash and checked before use,
// file hashes kept by file identity, and temp dirs of killed builds removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, link, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedStage, stageKey } from '../../builder/cache/store.js';
import { IdentityCache } from '../../builder/cache/identity.js';
import { pruneCache } from '../../builder/cache/prune.js';
import { hashPlanFiles } from '../../builder/manifest.js';
import { openOutput } from '../../builder/output.js';
import { sha256 } from '../../lib/hash.js';
import { runCli } from '../helpers/project.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a stage is run once per distinct input; a damaged entry is rebuilt, never used', async (t) => {
  const dir = await scratch(t);
  let runs = 0;
  const make = (text: string) => async (out: string) => {
    runs++;
    await writeFile(path.join(out, 'thing.img'), text);
    return { made: text };
  };
  const key = stageKey('thing', { text: 'a' });
  const first = await cachedStage(dir, 'thing', key, make('a'));
  const again = await cachedStage(dir, 'thing', key, make('a'));
  assert.equal(runs, 1, 'same inputs: not run again');
  assert.equal(again.hit, true);
  assert.deepEqual(again.meta, { made: 'a' });
  assert.equal(again.files['thing.img'].sha256, sha256('a'));
  await cachedStage(dir, 'thing', stageKey('thing', { text: 'b' }), make('b'));
  assert.equal(runs, 2, 'other inputs: run');

  // Same size, other bytes: only the hash can tell.
  await writeFile(path.join(first.dir, 'thing.img'), 'X');
  const logs: string[] = [];
  const healed = await cachedStage(dir, 'thing', key, make('a'), (m) => logs.push(m));
  assert.equal(runs, 3, 'the damaged entry was rebuilt');
  assert.equal(healed.hit, false);
  assert.equal(await readFile(path.join(healed.dir, 'thing.img'), 'utf8'), 'a');
  assert.match(logs.join('\n'), /thing entry [0-9a-f]{12} does not match its contents; rebuilding it/);
  assert.deepEqual((await readdir(path.join(dir, 'stages', 'thing'))).filter((n) => n.includes('.tmp-')), [], 'no temp entry left');
});

test('file hashes: an unchanged file is not read again; a rewritten one is, even with its old size and mtime', async (t) => {
  const dir = await scratch(t);
  const lib = path.join(dir, 'lib');
  await mkdir(lib);
  const files = ['a.bin', 'b.bin'].map((n) => path.join(lib, n));
  await writeFile(files[0], 'first file');
  await writeFile(files[1], 'second file');
  const plan = files.map((f) => ({ isoPath: `/library/${path.basename(f)}`, source: f, size: 0 }));
  for (const p of plan) p.size = (await stat(p.source)).size;

  const c1 = await IdentityCache.open<string>(dir, 'sha256');
  const cold = await hashPlanFiles(plan, c1);
  assert.equal(cold.readBytes, 'first file'.length + 'second file'.length);
  await c1.save();

  const c2 = await IdentityCache.open<string>(dir, 'sha256');
  const warm = await hashPlanFiles(plan, c2);
  assert.equal(warm.readBytes, 0, 'nothing read when nothing changed');
  assert.deepEqual(warm.files, cold.files);

  // Rewrite b with bytes of the same length and put its mtime back: ctime still moves.
  const before = await stat(files[1]);
  await new Promise((r) => setTimeout(r, 20));
  await writeFile(files[1], 'SECOND FILE');
  await utimes(files[1], before.atime, before.mtime);
  const changed = await hashPlanFiles(plan, c2);
  assert.equal(changed.readBytes, 'SECOND FILE'.length, 'only the rewritten file is read');
  assert.equal(changed.files.find((f) => f.path === '/library/b.bin')!.sha256, sha256('SECOND FILE'));

  // Our own hard link (the netboot tree) moves ctime too; relinked() keeps what is known.
  await new Promise((r) => setTimeout(r, 20));
  await link(files[0], path.join(dir, 'netboot-a.bin'));
  await c2.relinked(files);
  assert.equal((await hashPlanFiles(plan, c2)).readBytes, 0, 'a hard link is not a change');
  // Appending moves size and mtime: read again.
  await appendFile(files[0], '!');
  plan[0].size += 1;
  assert.equal((await hashPlanFiles(plan, c2)).readBytes, 'first file!'.length);
});

test('cache prune drops the least recently used entries first, down to the limit', async (t) => {
  const dir = await scratch(t);
  for (const [i, name] of ['old', 'mid', 'new'].entries()) {
    const r = await cachedStage(dir, 'blob', stageKey('blob', name), async (out) => writeFile(path.join(out, 'b'), Buffer.alloc(1000, i)));
    const when = new Date(Date.UTC(2026, 0, 1 + i));
    for (const f of [path.join(r.dir, 'b'), path.join(r.dir, '..', 'entry.json'), r.dir, path.join(r.dir, '..')]) await utimes(f, when, when);
  }
  const res = await pruneCache(dir, 3000);
  assert.equal(res.removed.length, 1);
  assert.match(res.removed[0].path, new RegExp(stageKey('blob', 'old')));
  assert.ok(res.after <= 3000 && res.before > 3000, JSON.stringify(res));
  assert.deepEqual((await readdir(path.join(dir, 'stages', 'blob'))).sort(), [stageKey('blob', 'mid'), stageKey('blob', 'new')].sort());
});

test('temp dirs left by killed builds of a site are removed by its next build, and no others', async (t) => {
  const dir = await scratch(t);
  for (const n of ['.rioja.tmp-4242', '.rioja.old-77', '.riojax.tmp-1', '.paraguay.tmp-9']) await mkdir(path.join(dir, n, 'gen'), { recursive: true });
  const out = await openOutput(dir, 'rioja');
  assert.deepEqual(out.removedStale.sort(), ['.rioja.old-77', '.rioja.tmp-4242']);
  await out.discard();
  await out.release();
  assert.deepEqual((await readdir(dir)).sort(), ['.paraguay.tmp-9', '.riojax.tmp-1']);
});

test('kill -9 during builds never piles up temp dirs: each build removes the ones before it', async (t) => {
  const out = await scratch(t);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let previous: string | undefined;
  for (let k = 0; k < 3; k++) {
    let child: import('node:child_process').ChildProcess | undefined;
    const running = runCli(['build', 'rioja', '--out', out], { started: (c) => (child = c) });
    const mine = () => `.rioja.tmp-${child?.pid}`;
    for (let i = 0; i < 400 && !(await readdir(out).catch((): string[] => [])).includes(mine()); i++) await sleep(25);
    await sleep(300);
    child!.kill('SIGKILL');
    const r = await running;
    assert.equal(r.code, 128, `killed build ${k}: ${r.stderr}`);
    const left = (await readdir(out)).filter((n) => n.startsWith('.rioja.tmp-'));
    assert.deepEqual(left, [mine()], `after kill ${k + 1}: only the last killed build's temp dir`);
    if (previous) assert.match(r.stderr, new RegExp(`removed \\${previous}, left by a build that was killed`));
    previous = mine();
  }
  const r = await runCli(['build', 'rioja', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`removed \\${previous}, left by a build that was killed`));
  assert.deepEqual((await readdir(out)).sort(), ['rioja']);
});
