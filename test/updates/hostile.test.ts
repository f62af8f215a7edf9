// `xs-agent pull` against servers that are hostile or merely terrible, all on 127.0.0.1:
// an endless chunk, a Content-Length of 10^12, an endless release.json, a 2 KB/s link
// that is cut mid-chunk, a 1 B/s drip. The agent runs as a child whose peak memory is
// read from /proc; every run has a hard time limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { hostileRepo, streamForever, drip } from '../helpers/hostile.js';
import { smallRelease, scratchDir, runWatched } from './hostile-helpers.js';
import { pullArgs, snapshot, statusOf } from './helpers.js';
import { checkDeltas, FormatError, SPEC } from '../../agent/pull/format.js';
import { MAX_METADATA_BYTES } from '../../agent/pull/source.js';

async function setup(t: import('node:test').TestContext, libBytes = 8192) {
  const rel = await smallRelease(libBytes);
  const root = scratchDir('xs-root-');
  const state = scratchDir('xs-state-');
  t.after(async () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
    await rel.cleanup();
  });
  return { rel, root, state };
}

/** Bound for a pull whose chunk is 8 KiB and whose metadata is a few KiB. */
const RSS_BOUND_MIB = 160;

test('an endless chunk is cut off at its signed size; memory stays bounded', async (t) => {
  const { rel, root, state } = await setup(t);
  const srv = await hostileRepo(rel.repo, { override: (p, _q, res) => p.startsWith('chunks/') && (streamForever(res), true) });
  t.after(() => srv.close());
  const r = await runWatched(pullArgs(srv.url, root, state, rel.pub), 30_000);
  console.log(`# endless chunk: exit ${r.code} after ${r.ms} ms, peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /chunks\/.*: the source sent more than the \d+ bytes allowed for it/);
  assert.ok(r.peakMiB > 0 && r.peakMiB < RSS_BOUND_MIB, `peak RSS ${r.peakMiB} MiB`);
  assert.deepEqual(snapshot(root), {});
  assert.equal(statusOf(state).result, 'refused');
});

test('a Content-Length of 10^12 is refused before the body is read', async (t) => {
  const { rel, root, state } = await setup(t);
  const srv = await hostileRepo(rel.repo, {
    override: (p, _q, res) => {
      if (!p.startsWith('chunks/')) return false;
      res.writeHead(200, { 'content-length': 1e12 });
      res.write('x');
      return true;
    },
  });
  t.after(() => srv.close());
  const r = await runWatched(pullArgs(srv.url, root, state, rel.pub), 30_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /the source offers 1000000000000 bytes, more than the \d+ allowed for it/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  const asked = srv.log.filter((l) => l.path.startsWith('chunks/')).map((l) => l.path);
  assert.equal(new Set(asked).size, asked.length, 'no chunk was asked for twice');
});

test('an endless release.json stops at the metadata cap', async (t) => {
  const { rel, root, state } = await setup(t);
  const srv = await hostileRepo(rel.repo, { override: (p, _q, res) => p === 'release.json' && (streamForever(res), true) });
  t.after(() => srv.close());
  const r = await runWatched(pullArgs(srv.url, root, state, rel.pub), 60_000);
  console.log(`# endless release.json: exit ${r.code} after ${r.ms} ms, peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`release.json: the source sent more than the ${MAX_METADATA_BYTES} bytes allowed`));
  assert.ok(r.peakMiB < 64 + 3 * (MAX_METADATA_BYTES >> 20), `peak RSS ${r.peakMiB} MiB`);
});

test('a 2 KB/s link completes, resumes a cut chunk where it stopped, and reports progress', async (t) => {
  const { rel, root, state } = await setup(t, 16384);
  const srv = await hostileRepo(rel.repo, { rate: 2048, cut: { match: /^chunks\//, after: 3000 } });
  t.after(() => srv.close());
  const r = await runWatched(pullArgs(srv.url, root, state, rel.pub, ['--timeout', '2']), 60_000);
  console.log(`# 2 KB/s, one cut: exit ${r.code} after ${r.ms} ms`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(statusOf(state).result, 'applied');
  assert.match(r.stdout, /resuming at byte 3000/);
  assert.ok(srv.log.some((l) => l.range === 'bytes=3000-'), 'asked for the rest only');
  assert.ok((r.stdout.match(/fetched \d+\/\d+ chunks \([\d.]+ of [\d.]+ MiB; [\d.]+ MiB received, [\d.]+ KiB\/s\)/g) ?? []).length >= 2, r.stdout);
});

test('a 1 B/s drip is abandoned in bounded time', async (t) => {
  const { rel, root, state } = await setup(t);
  const srv = await hostileRepo(rel.repo, { override: (p, _q, res) => p.startsWith('chunks/') && (drip(res, 1000), true) });
  t.after(() => srv.close());
  const r = await runWatched(pullArgs(srv.url, root, state, rel.pub, ['--timeout', '1']), 60_000);
  console.log(`# 1 B/s drip, --timeout 1: exit ${r.code} after ${r.ms} ms`);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /under 64 B\/s for 1 s\); the link is too slow even for one request at a time/);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  assert.deepEqual(snapshot(root), {});
});

test('a signed deltaSize larger than its chunk is refused', () => {
  const id = 'a'.repeat(64);
  const doc = (deltaSize: number) => ({ _type: 'xs-deltas', spec: SPEC, site: 's', version: 2, release: id, deltas: [{ chunk: id, size: 1000, delta: id, deltaSize, base: [[id, 1000]] }] });
  assert.equal(checkDeltas(doc(999), 'd.json').deltas[0]!.deltaSize, 999);
  assert.throws(() => checkDeltas(doc(1001), 'd.json'), (e: Error) => e instanceof FormatError && /deltaSize.*larger than its chunk \(1000\)/.test(e.message));
});
