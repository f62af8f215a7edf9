// Chunk deltas: the encoding round-trips and refuses malformed input; a pull fetches small
// deltas instead of the chunks they rebuild (measured on the server's log); a tampered
// delta, or a signed one that rebuilds the wrong bytes, is never used (whole chunk
// instead, or a refusal with nothing applied when the whole chunk is not there); a server
// lacking a delta's base fetches the whole chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { publish } from '../../builder/updates/publish.js';
import { bundle } from '../../builder/updates/bundle.js';
import { chooseBase } from '../../builder/updates/deltas.js';
import { loadSigningKey } from '../../builder/updates/keys.js';
import { encodeDelta, applyDelta, DeltaError } from '../../agent/pull/delta.js';
import { chunkBuffer } from '../../agent/pull/chunker.js';
import { signDoc } from '../../agent/pull/sign.js';
import { checkDeltas, checkRelease, chunkPath, deltaPath, deltasPath, type DeltaEntry, type FileRef } from '../../agent/pull/format.js';
import { makeFixture, serveRepo, runAgent, snapshot, pullArgs, statusOf, patchFile, prng, type Fixture } from './helpers.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const site = (f: Fixture) => path.join(f.dir, 'sites', 'upd.yaml');
const BIG = 'library/common/videos/big.bin';

test('delta encoding: overwrite, insertion and deletion round-trip; bad deltas are refused', () => {
  const base = prng('base', 200_000);
  const over = Buffer.from(base);
  prng('x', 3000).copy(over, 50_000);
  const ins = Buffer.concat([base.subarray(0, 120_000), prng('ins', 777), base.subarray(120_000)]);
  const del = Buffer.concat([base.subarray(0, 30_000), base.subarray(31_234)]);
  for (const [name, target] of [['overwrite', over], ['insertion', ins], ['deletion', del]] as const) {
    const d = encodeDelta(base, target);
    assert.ok(applyDelta(base, d, target.length).equals(target), `${name}: rebuilds the target`);
    assert.ok(d.length < 4000 + 200, `${name}: ${d.length} bytes for a change of at most 3000`);
  }
  // Unrelated data: all of it is inserted, nothing is copied.
  const other = prng('other', 10_000);
  assert.ok(encodeDelta(base, other).length >= other.length);

  const d = encodeDelta(base, over);
  assert.throws(() => applyDelta(base, d, over.length + 1), DeltaError, 'declared size must match the chunk');
  assert.throws(() => applyDelta(base.subarray(1), d, over.length), DeltaError, 'base size must match');
  assert.throws(() => applyDelta(base, d.subarray(0, d.length - 1), over.length), DeltaError, 'truncated');
  const far = Buffer.from(d);
  // The first op of this delta is a copy from offset 0: point it past the end of the base.
  assert.equal(far[12], 1);
  far.writeUInt32LE(base.length, 13);
  assert.throws(() => applyDelta(base, far, over.length), /out of bounds/);
  const bad = Buffer.from(d);
  bad[12] = 9;
  assert.throws(() => applyDelta(base, bad, over.length), /unknown op/);
});

test('the base of a changed chunk follows an insertion (anchors on either side)', () => {
  const old = prng('file', 1_500_000);
  const grown = Buffer.concat([old.subarray(0, 700_000), prng('ins', 100_000), old.subarray(700_000)]);
  const ref = (b: Buffer): FileRef => {
    const c = chunkBuffer(b);
    return { size: c.size, sha256: c.sha256, chunks: c.chunks.map((x) => [x.id, x.size]) };
  };
  const o = ref(old);
  const n = ref(grown);
  const off = (f: FileRef) => f.chunks.reduce<number[]>((a, _c, i) => [...a, i ? a[i - 1]! + f.chunks[i - 1]![1] : 0], []);
  const oldOff = off(o);
  const newOff = off(n);
  const oldPos = new Map(o.chunks.map(([id], k) => [id, oldOff[k]!]));
  const had = new Set(o.chunks.map(([id]) => id));
  const fresh = n.chunks.map((_c, i) => i).filter((i) => !had.has(n.chunks[i]![0]));
  assert.ok(fresh.length >= 1);
  const base = new Map<string, Buffer>();
  o.chunks.forEach(([id, s], k) => base.set(id, old.subarray(oldOff[k]!, oldOff[k]! + s)));
  let inserted = 0;
  let total = 0;
  for (const i of fresh) {
    const b = chooseBase(o, n, i, oldPos, oldOff, newOff);
    assert.ok(b.length > 0 && b.every(([id]) => had.has(id)), 'the base is made of old chunks');
    const target = grown.subarray(newOff[i]!, newOff[i]! + n.chunks[i]![1]);
    const d = encodeDelta(Buffer.concat(b.map(([id]) => base.get(id)!)), target);
    total += target.length;
    inserted += d.length;
  }
  // The 100 000 inserted bytes must be sent; the old bytes around them come from the base.
  assert.ok(inserted < 100_000 + 2000, `deltas of ${inserted} bytes for new chunks of ${total} bytes`);
  assert.ok(total - inserted > 16_384, 'some old bytes were reused');
});

async function twoReleases(t: { after(fn: () => unknown): void }, libBytes = 3 * 1024 * 1024) {
  const f = await makeFixture({ libBytes });
  t.after(() => f.cleanup());
  await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  const base = tmp('xs-delta-');
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const state = path.join(base, 'state');
  const first = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // Release 2: three scattered 3000-byte edits of the 3 MiB file.
  for (const [i, off] of [400_000, 1_500_000, 2_600_000].entries()) patchFile(path.join(f.lib, 'videos/big.bin'), off, 3000, `d${i}`);
  const r2 = await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  assert.equal(r2.version, 2);
  const deltasFile = path.join(f.repo, deltasPath(2));
  const entries = checkDeltas(JSON.parse(readFileSync(deltasFile, 'utf8')).signed, deltasFile).deltas;
  return { f, base, root, state, entries };
}

/** A copy of a pulled-to-release-1 server, to try several pulls from the same start. */
function server(base: string, name: string, root: string, state: string) {
  const dir = path.join(base, name);
  cpSync(root, path.join(dir, 'root'), { recursive: true });
  cpSync(state, path.join(dir, 'state'), { recursive: true });
  return { root: path.join(dir, 'root'), state: path.join(dir, 'state') };
}

test('a pull fetches deltas instead of the changed chunks: far fewer bytes on the wire', async (t) => {
  const { f, base, root, state, entries } = await twoReleases(t);
  assert.ok(entries.length >= 3, `each edit has a delta: ${entries.length}`);
  const srv = await serveRepo(f.repo);
  t.after(() => srv.close());
  const a = server(base, 'a', root, state);
  const r = await runAgent(pullArgs(srv.url, a.root, a.state, f.pub));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(readFileSync(path.join(a.root, BIG)).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))));
  const got = srv.log.filter((l) => l.path.startsWith('deltas/') && l.status === 200);
  const byDelta = new Map(entries.map((e) => [deltaPath(e.delta), e]));
  const used = got.map((l) => byDelta.get(l.path)!);
  assert.equal(got.length, entries.length, 'every delta was fetched once');
  const deltaBytes = got.reduce((s, l) => s + l.bytes, 0);
  const replaced = used.reduce((s, e) => s + e.size, 0);
  assert.ok(deltaBytes < 3 * 3000 + 1000, `deltas: ${deltaBytes} bytes on the wire for 9000 bytes changed`);
  assert.ok(deltaBytes * 10 < replaced, `deltas (${deltaBytes} bytes) are far smaller than the chunks they replace (${replaced})`);
  const whole = new Set(srv.chunkRequests().map((l) => l.path));
  for (const e of used) assert.ok(!whole.has(chunkPath(e.chunk)), 'a chunk rebuilt from a delta is not fetched as well');
  const s = statusOf(a.state);
  assert.equal(s.chunks?.deltas, entries.length);
  assert.equal(s.chunks?.deltaBytes, deltaBytes);
  assert.equal(s.warnings.length, 0, s.warnings.join('\n'));

  // The --since bundle carries the same deltas instead of the chunks, and applies.
  const stick = path.join(base, 'stick');
  const b = await bundle({ site: site(f), repo: f.repo, to: stick, since: 1 });
  assert.equal(b.deltas, entries.length);
  assert.ok(b.bytes < 64 * 1024, `bundle of ${b.bytes} bytes`);
  const c = server(base, 'c', root, state);
  const fromStick = await runAgent(pullArgs(stick, c.root, c.state, f.pub));
  assert.equal(fromStick.code, 0, fromStick.stdout + fromStick.stderr);
  assert.deepEqual(snapshot(c.root), snapshot(a.root));
});

test('a tampered delta is not used: the whole chunk is fetched, or nothing is applied', async (t) => {
  const { f, base, root, state, entries } = await twoReleases(t);
  const e = entries[0]!;
  // 1. The delta file modified on the server: its sha256 no longer matches the signed list.
  const bad = path.join(base, 'bad-repo');
  cpSync(f.repo, bad, { recursive: true });
  const df = path.join(bad, deltaPath(e.delta));
  const tampered = readFileSync(df);
  tampered[tampered.length - 1] ^= 0xff;
  writeFileSync(df, tampered);
  const srv = await serveRepo(bad);
  t.after(() => srv.close());
  const a = server(base, 'a', root, state);
  const r = await runAgent(pullArgs(srv.url, a.root, a.state, f.pub));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(statusOf(a.state).warnings.join('\n'), /delta does not match its sha256.*whole chunk/);
  assert.ok(srv.chunkRequests().some((l) => l.path === chunkPath(e.chunk)), 'the whole chunk was fetched instead');
  assert.ok(readFileSync(path.join(a.root, BIG)).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))));

  // 2. A delta listed with its right sha256 in a validly signed list, but rebuilding other
  // bytes (a faulty or compromised publisher): the rebuilt chunk's sha256 is checked.
  const forged = path.join(base, 'forged-repo');
  cpSync(f.repo, forged, { recursive: true });
  const baseBytes = Buffer.concat(e.base.map(([id]) => readFileSync(path.join(f.repo, chunkPath(id)))));
  const want = Buffer.from(applyDelta(baseBytes, readFileSync(path.join(f.repo, deltaPath(e.delta))), e.size));
  want[want.length >> 1] ^= 1;
  const wrong = encodeDelta(baseBytes, want);
  const wrongId = sha(wrong);
  mkdirSync(path.dirname(path.join(forged, deltaPath(wrongId))), { recursive: true });
  writeFileSync(path.join(forged, deltaPath(wrongId)), wrong);
  const docFile = path.join(forged, deltasPath(2));
  const doc = JSON.parse(readFileSync(docFile, 'utf8')).signed;
  const entry = doc.deltas.find((x: DeltaEntry) => x.chunk === e.chunk);
  entry.delta = wrongId;
  entry.deltaSize = wrong.length;
  writeFileSync(docFile, JSON.stringify(signDoc(doc, [await loadSigningKey(f.key)])));
  srv.dir = forged;
  srv.log.length = 0;
  const b = server(base, 'b', root, state);
  const r2 = await runAgent(pullArgs(srv.url, b.root, b.state, f.pub));
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.ok(srv.log.some((l) => l.path === deltaPath(wrongId) && l.status === 200), 'the forged delta was fetched');
  assert.match(statusOf(b.state).warnings.join('\n'), /rebuilt from this delta does not match its sha256/);
  assert.ok(srv.chunkRequests().some((l) => l.path === chunkPath(e.chunk)), 'the whole chunk was fetched instead');
  assert.ok(readFileSync(path.join(b.root, BIG)).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))));

  // 3. The same forged delta on a stick, where the whole chunk is not: refused, nothing applied.
  const stick = path.join(base, 'stick');
  const info = await bundle({ site: site(f), repo: forged, to: stick, since: 1 });
  assert.equal(info.deltas, entries.length);
  const c = server(base, 'c', root, state);
  const before = snapshot(c.root);
  const r3 = await runAgent(pullArgs(stick, c.root, c.state, f.pub));
  assert.equal(r3.code, 2, r3.stdout + r3.stderr);
  assert.match(statusOf(c.state).error ?? '', /chunk missing from the bundle/);
  assert.deepEqual(snapshot(c.root), before, 'nothing applied');
  assert.equal(statusOf(c.state).version, 1);
});

test('a server without a delta\'s base fetches the whole chunk', async (t) => {
  const { f, base, root, state, entries } = await twoReleases(t);
  const e = entries[0]!;
  // Damage the server's copy of the base (a local edit): the base is no longer on disk.
  const r1 = checkRelease(JSON.parse(readFileSync(path.join(f.repo, 'releases/1.release.json'), 'utf8')).signed, 'r1');
  const big = r1.library[0]!.files.find((x) => x.path === 'videos/big.bin')!;
  let off = 0;
  const at = new Map<string, number>();
  for (const [id, n] of big.chunks) {
    at.set(id, off);
    off += n;
  }
  const a = server(base, 'a', root, state);
  const fd = openSync(path.join(a.root, BIG), 'r+');
  writeSync(fd, Buffer.from('local edit'), 0, 10, at.get(e.base[0]![0])! + 100);
  closeSync(fd);
  const srv = await serveRepo(f.repo);
  t.after(() => srv.close());
  const r = await runAgent(pullArgs(srv.url, a.root, a.state, f.pub));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(srv.chunkRequests().some((l) => l.path === chunkPath(e.chunk)), 'the whole chunk was fetched');
  assert.ok(!srv.log.some((l) => l.path === deltaPath(e.delta)), 'its delta was not fetched (the base is missing)');
  const s = statusOf(a.state);
  assert.ok((s.chunks?.deltas ?? 0) >= 1 || entries.length === 1, 'deltas whose base is intact are still used');
  assert.equal(s.warnings.length, 0, s.warnings.join('\n'));
  assert.ok(readFileSync(path.join(a.root, BIG)).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))));
});
