// Publish reads a library file only when its identity changed (builder/cache/identity.ts,
// namespace 'chunks'), and the chunker keeps cutting the same bytes at the same places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { publish } from '../../builder/updates/publish.js';
import { chunkBuffer, chunkFile, MAX_CHUNK } from '../../agent/pull/chunker.js';
import { chunkPath, type ReleaseDoc } from '../../agent/pull/format.js';
import { makeFixture, patchFile, prng } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const release = (repo: string): ReleaseDoc => JSON.parse(readFileSync(path.join(repo, 'release.json'), 'utf8')).signed;
const libFile = (r: ReleaseDoc, p: string) => r.library[0]!.files.find((f) => f.path === p)!;

test('publish: an unchanged library file is not read again, a changed one is re-chunked, a lost chunk is restored', async (t) => {
  const f = await makeFixture({ libBytes: 1024 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');

  const first = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(first.filesRead, first.files, 'the first publish reads every file');
  assert.equal(first.filesCached, 0);

  const same = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(same.changed, false);
  assert.equal(same.filesRead, 0, 'no file was read: every chunk list came from the identity cache');
  assert.equal(same.filesCached, same.files);

  const big = path.join(f.lib, 'videos', 'big.bin');
  patchFile(big, 300_000, 4096, 'cache-edit');
  const edited = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(edited.changed, true);
  assert.equal(edited.filesRead, 1, 'only the edited file was read');
  const ref = libFile(release(f.repo), 'videos/big.bin');
  assert.equal(ref.sha256, sha(readFileSync(big)), 'the release lists the new content');
  assert.deepEqual(ref.chunks, chunkBuffer(readFileSync(big)).chunks.map((c) => [c.id, c.size]));

  // A chunk of an unchanged file lost from the repository: that file is read again and the
  // chunk written back, not taken on trust from the cache.
  const other = libFile(release(f.repo), 'videos/other.bin');
  rmSync(path.join(f.repo, chunkPath(other.chunks[0]![0])));
  const restored = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(restored.changed, false);
  assert.equal(restored.filesRead, 1);
  assert.equal(sha(readFileSync(path.join(f.repo, chunkPath(other.chunks[0]![0])))), other.chunks[0]![0]);

  // --refresh reads everything (and so checks every chunk of the repository by size).
  const refresh = await publish({ site, repo: f.repo, keyFile: f.key, refresh: true });
  assert.equal(refresh.filesRead, refresh.files);

  // A damaged cache file costs a re-read, never a wrong release.
  writeFileSync(path.join(f.dir, '.cache', 'files', 'chunks.json'), '{"format":1,"entries":{');
  const afterDamage = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(afterDamage.changed, false);
  assert.equal(afterDamage.filesRead, afterDamage.files);

  // An entry of the wrong form (hand-edited, another version's) is a miss, not a release.
  const cacheFile = path.join(f.dir, '.cache', 'files', 'chunks.json');
  const stored = JSON.parse(readFileSync(cacheFile, 'utf8'));
  for (const e of Object.values(stored.entries) as [unknown, { chunks: unknown }][]) e[1].chunks = [['x', 1]];
  writeFileSync(cacheFile, JSON.stringify(stored));
  const afterForm = await publish({ site, repo: f.repo, keyFile: f.key });
  assert.equal(afterForm.changed, false);
  assert.equal(afterForm.filesRead, afterForm.files);
});

test('chunker: cut points are those of the signed format (golden), from a file as from a buffer', async (t) => {
  // Digest of offset:size:id of every chunk, as cut by the chunker releases were published with.
  const data = prng('chunker-golden', 3 << 20);
  const c = chunkBuffer(data);
  assert.equal(c.chunks.length, 40);
  assert.equal(sha(Buffer.from(c.chunks.map((x) => `${x.offset}:${x.size}:${x.id}`).join('\n'))), '50678b2038c17d14beb7386b8eb750edb3e02d2a29bc8fa31708b1cb3832b490');
  // No cut point in constant bytes: every chunk is the maximum size.
  assert.deepEqual(chunkBuffer(Buffer.alloc(MAX_CHUNK * 3 + 5)).chunks.map((x) => x.size), [MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, 5]);
  // chunkFile reads in blocks: the cuts must not depend on where a block ends.
  const f = await makeFixture({ libBytes: 1024 });
  t.after(() => f.cleanup());
  const file = path.join(f.dir, 'golden.bin');
  const big = Buffer.concat([data, prng('chunker-golden-2', 9 << 20)]);
  writeFileSync(file, big);
  const fromFile = await chunkFile(file);
  assert.deepEqual(fromFile, chunkBuffer(big));
});
