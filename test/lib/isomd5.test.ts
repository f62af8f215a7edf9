// The media checksum computed while an image streams (lib/isomd5.ts) is byte-for-byte
// what isomd5sum's implantisomd5 writes, and checkisomd5 (what rd.live.check runs)
// passes it: images of several sizes (fragments shorter and longer than the tool's
// 32 KiB read, a size that is no multiple of it) and one that already carries a checksum.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IsoMd5 } from '../../lib/isomd5.js';
import { run } from '../../builder/tools/exec.js';
import { checkIsoMd5, implantIsoMd5 } from '../../builder/tools/isomd5.js';

async function makeIso(dir: string, name: string, bytes: number): Promise<string> {
  const src = path.join(dir, `${name}-src`);
  await mkdir(src, { recursive: true });
  // Content that is not all one byte, so a misplaced boundary changes the sums.
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 2654435761) >>> 24;
  await writeFile(path.join(src, 'data.bin'), data);
  const iso = path.join(dir, `${name}.iso`);
  await run('xorriso', ['-no_rc', '-outdev', iso, '-volid', 'T', '-map', src, '/', '-commit'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  return iso;
}

async function implantStreamed(iso: string, chunkBytes: number): Promise<Buffer> {
  const md5 = new IsoMd5();
  for await (const c of createReadStream(iso, { highWaterMark: chunkBytes })) md5.update(c as Buffer);
  const fh = await open(iso, 'r+');
  try {
    await fh.write(md5.appData(), 0, undefined, IsoMd5.appDataOffset);
  } finally {
    await fh.close();
  }
  return readFile(iso);
}

test('the streamed media checksum equals implantisomd5 and passes checkisomd5', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'xs-isomd5-'));
  try {
    // 0 B of content: fragments far below 32 KiB; 3 MB + 5 sectors: not a multiple of it.
    for (const [name, bytes] of [['empty', 0], ['odd', 3_000_000 + 5 * 2048 + 17], ['larger', 9 << 20]] as const) {
      const iso = await makeIso(dir, name, bytes);
      const byTool = path.join(dir, `${name}-tool.iso`);
      const streamed = path.join(dir, `${name}-streamed.iso`);
      await copyFile(iso, byTool);
      await copyFile(iso, streamed);
      await implantIsoMd5(byTool);
      // Odd chunk sizes: the tool's read grain must not depend on how bytes arrive.
      const ours = await implantStreamed(streamed, 7777);
      assert.ok(ours.equals(await readFile(byTool)), `${name}: the streamed checksum differs from implantisomd5's`);
      // Below 21 reads of 32 KiB the tool's fragment sums skip fragments and its own
      // implant fails checkisomd5 too; every real medium is far larger.
      const check = await checkIsoMd5(streamed);
      assert.equal(check.ok, (await checkIsoMd5(byTool)).ok, `${name}: checkisomd5 judges the two differently`);
      assert.ok(check.ok || bytes === 0, `${name}: checkisomd5 fails:\n${check.output}`);
      // A second implant over an image that carries one (a replayed base's) gives the same.
      const again = await implantStreamed(streamed, 1 << 20);
      assert.ok(again.equals(ours), `${name}: implanting over an existing checksum changed it`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an image cut short or without a volume descriptor is refused, not given a checksum', () => {
  const short = new IsoMd5();
  short.update(Buffer.alloc(4096));
  assert.throws(() => short.appData(), /before its volume descriptor/);
  const noPvd = new IsoMd5();
  assert.throws(() => noPvd.update(Buffer.alloc(40000)), /no ISO 9660 primary volume descriptor/);
});
