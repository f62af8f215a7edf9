// serve keeps hot files in memory: a file changed or replaced on disk must never be
// answered from the old copy, ranges come out of the cached bytes right, and files over
// the cap are streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileCache } from '../../builder/serve/cache.js';
import { resolveFile, treeRoot } from '../../builder/serve/resolve.js';

async function id(root: Awaited<ReturnType<typeof treeRoot>>, rel: string) {
  const r = await resolveFile(root, rel.split('/'));
  assert.ok(r.ok, `${rel} not found`);
  return r;
}

async function cachedSoon(cache: FileCache, f: Parameters<FileCache['get']>[0]): Promise<Buffer> {
  for (let i = 0; i < 100; i++) {
    const b = cache.get(f);
    if (b) return b;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${f.file} never got cached`);
}

test('cache: fills in the background, follows changes and replacements, respects its caps', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-cache-'));
  try {
    const a = randomBytes(100_000);
    await writeFile(path.join(dir, 'a.rpm'), a);
    await writeFile(path.join(dir, 'big.img'), randomBytes(300_000));
    const root = await treeRoot(dir, {});
    const cache = new FileCache(400_000, 200_000);

    const f1 = await id(root, 'a.rpm');
    assert.equal(cache.get(f1), undefined, 'a miss answers from disk');
    assert.deepEqual(await cachedSoon(cache, f1), a);

    // Rewritten in place (same inode, same size, new bytes): the old copy must not be served.
    const b = randomBytes(100_000);
    await new Promise((r) => setTimeout(r, 5));
    await writeFile(path.join(dir, 'a.rpm'), b);
    const f2 = await id(root, 'a.rpm');
    assert.equal(cache.get(f2), undefined, 'stale bytes served after an in-place rewrite');
    assert.deepEqual(await cachedSoon(cache, f2), b);

    // Replaced by rename (a rebuilt tree): new inode.
    const c = randomBytes(100_000);
    await writeFile(path.join(dir, 'a.new'), c);
    await rename(path.join(dir, 'a.new'), path.join(dir, 'a.rpm'));
    const f3 = await id(root, 'a.rpm');
    assert.equal(cache.get(f3), undefined, 'stale bytes served after a replacement');
    assert.deepEqual(await cachedSoon(cache, f3), c);

    // Over the per-file cap: never cached.
    const big = await id(root, 'big.img');
    cache.get(big);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(cache.get(big), undefined);

    // Over the total: the least recently used goes.
    for (let i = 0; i < 5; i++) await writeFile(path.join(dir, `p${i}.rpm`), randomBytes(100_000));
    for (let i = 0; i < 5; i++) await cachedSoon(cache, await id(root, `p${i}.rpm`));
    assert.ok(cache.size <= 400_000, `cache holds ${cache.size} bytes`);
    assert.equal(cache.get(await id(root, 'a.rpm')), undefined, 'the oldest entry was not evicted');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
