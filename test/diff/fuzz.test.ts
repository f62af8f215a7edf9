// `xsbuild diff` on damaged input: empty, truncated, non-ISO files and a small real ISO
// (xorriso, Rock Ridge + Joliet, with and without a manifest) with truncations, bit flips
// and overwritten ranges, biased to the metadata at the start of the image. Every run
// ends in a report or a refusal (exit 2, a message naming the file), never anything
// else, within a time bound. FUZZ_SEED / FUZZ_RUNS replay or widen it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { diffReleases, runDiff } from '../../builder/diff/command.js';
import { DiffError } from '../../builder/diff/errors.js';
import { FileFormatError } from '../../lib/errors.js';
import { IsoImage } from '../../lib/iso9660.js';
import { makeIso, tempDir, writeManifest, writeTree } from './fixtures.js';
import { runCli } from '../helpers/project.js';

const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SECTOR = 2048;
const CASE_MS = 5000;

type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'zero'; at: number; length: number };

/** Offsets in sectors 16 to 48 (descriptors, path tables, directories, SUSP) or anywhere. */
const offset = (size: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 16 * SECTOR, max: Math.min(size, 48 * SECTOR) - 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 48 }).map((s) => s * SECTOR) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: size - 1 }) },
  );

const damage = (size: number): fc.Arbitrary<Damage> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: offset(size) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: offset(size), bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), at: offset(size), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array([0, 0, 0, 0]), new Uint8Array([0xff, 0xff, 0xff, 0x7f]))) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('zero' as const), at: offset(size), length: fc.integer({ min: 1, max: 3 * SECTOR }) }) },
  );

function damaged(image: Buffer, list: Damage[]): Buffer {
  let b = Buffer.from(image);
  for (const d of list) {
    if (d.kind === 'truncate') b = b.subarray(0, Math.min(d.at, b.length));
    else if (d.at < b.length) {
      if (d.kind === 'flip') b[d.at] ^= 1 << d.bit;
      else if (d.kind === 'overwrite') Buffer.from(d.bytes).copy(b, d.at);
      else b.fill(0, d.at, Math.min(b.length, d.at + d.length));
    }
  }
  return b;
}

describe('xsbuild diff on damaged and foreign input', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  const isos: { name: string; path: string; bytes: Buffer }[] = [];

  before(async () => {
    ({ dir: work, cleanup } = await tempDir('fuzz'));
    const tree = join(work, 'tree');
    await writeTree(tree, {
      'ks.cfg': 'text\nlang en_US\n',
      'isolinux/isolinux.cfg': 'default install\nlabel install\n  kernel /images/pxeboot/vmlinuz\n  append initrd=/images/pxeboot/initrd.img inst.ks=hd:LABEL=FUZZ:/ks.cfg\n',
      'EFI/BOOT/grub.cfg': "menuentry 'Install' {\n  linux /images/pxeboot/vmlinuz inst.ks=hd:LABEL=FUZZ:/ks.cfg\n  initrd /images/pxeboot/initrd.img\n}\n",
      'images/pxeboot/vmlinuz': randomBytes(9000),
      'library/música/canción con un nombre largo de más de treinta y un caracteres.txt': 'ñandú\n',
      'a/b/c/d/e/f/deep.txt': 'deep\n',
      ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`Packages/package-number-${i}-1.0-1.noarch.rpm`, `rpm ${i}\n`])),
    });
    await mkdir(join(tree, 'links'), { recursive: true });
    await symlink('../ks.cfg', join(tree, 'links/ks-link'));
    await makeIso(tree, join(work, 'scan.iso'), 'FUZZ');
    await writeManifest(tree, { site: 'fuzz', release: '1', volumeId: 'FUZZ', layers: [], packages: [], bootEntries: [], library: ['/library'] });
    await makeIso(tree, join(work, 'manifest.iso'), 'FUZZ');
    for (const name of ['manifest.iso', 'scan.iso']) isos.push({ name, path: join(work, name), bytes: await readFile(join(work, name)) });
  });
  after(() => cleanup());

  /** runDiff as the CLI calls it, with its output captured. */
  async function diffOf(a: string, b: string): Promise<{ code: number; stderr: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (c) => (stderr += c));
    out.resume();
    const code = await runDiff([a, b, '--quiet'], { stdout: out, stderr: err, env: {} });
    return { code, stderr };
  }

  const foreign: [string, Buffer][] = [
    ['an empty file', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['a text file', Buffer.from('#!/bin/sh\necho not an image\n')],
    ['random bytes', randomBytes(100_000)],
    ['JSON that is not a manifest', Buffer.from('{"hello": "world"}\n')],
    ['a manifest cut short', Buffer.from('{"manifestVersion": 1, "site": "x", "files": [')],
    ['zeros past sector 16', Buffer.alloc(40 * SECTOR)],
  ];
  for (const [what, bytes] of foreign) {
    it(`${what}: exit 2 and a message naming the file`, async () => {
      const p = join(work, `foreign-${what.replace(/\W+/g, '-')}`);
      await writeFile(p, bytes);
      const r = await diffOf(p, isos[0].path);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    });
  }

  for (const cut of [1, 16 * SECTOR, 16 * SECTOR + 100, 17 * SECTOR, 19 * SECTOR, 24 * SECTOR]) {
    it(`an ISO truncated to ${cut} bytes: exit 2, "truncated or damaged"`, async () => {
      const p = join(work, `cut-${cut}.iso`);
      await writeFile(p, isos[0].bytes.subarray(0, cut));
      const r = await diffOf(p, isos[0].path);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: .*cut-\d+\.iso: .*(not an ISO 9660 image|truncated|damaged)/);
      assert.doesNotMatch(r.stderr, /internal error/);
    });
  }

  it(`truncations, bit flips and overwrites never crash the reader (${RUNS} cases, seed ${SEED})`, { timeout: 300_000 }, async (t) => {
    t.diagnostic(`seed ${SEED}; replay with FUZZ_SEED=${SEED}`);
    const tally = { same: 0, different: 0, refused: 0 };
    const arb = fc.integer({ min: 0, max: isos.length - 1 }).chain((i) => fc.record({ i: fc.constant(i), damage: fc.array(damage(isos[i].bytes.length), { minLength: 1, maxLength: 4 }) }));
    const target = join(work, 'damaged.iso');
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const iso = isos[c.i];
        await writeFile(target, damaged(iso.bytes, c.damage));
        const t0 = performance.now();
        try {
          const report = await diffReleases(target, iso.path, { quiet: true });
          if (report.same) tally.same++;
          else tally.different++;
        } catch (e) {
          if (!(e instanceof DiffError || e instanceof FileFormatError)) assert.fail(`not a refusal: ${(e as Error)?.stack ?? String(e)}`);
          assert.match(e.message, /damaged\.iso/, 'the message names the file');
          tally.refused++;
        }
        // The reader on its own, every file: diff reads only what its sections need.
        const refusedOnly = (e: unknown) => {
          if (!(e instanceof FileFormatError)) assert.fail(`reader: not a FileFormatError: ${(e as Error)?.stack ?? String(e)}`);
        };
        const img = await IsoImage.open(target).catch((e: unknown) => refusedOnly(e));
        if (img) {
          try {
            for (const e of await img.list()) if (e.kind === 'file') await img.readFile(e.path);
          } catch (e) {
            refusedOnly(e);
          } finally {
            await img.close();
          }
        }
        const ms = performance.now() - t0;
        assert.ok(ms < CASE_MS, `diff took ${ms.toFixed(0)} ms`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
    t.diagnostic(`${tally.same} same, ${tally.different} different, ${tally.refused} refused`);
    assert.ok(tally.refused > 0 && tally.same + tally.different > 0, JSON.stringify(tally));
  });

  it('a file record whose size runs past the end of the image is refused, not allocated', async () => {
    const bytes = Buffer.from(isos[0].bytes);
    // Every directory record naming KS.CFG (ISO 9660 and Joliet trees): size = 4 GiB - 1.
    let n = 0;
    for (const name of [Buffer.from('KS.CFG;1', 'latin1'), Buffer.from('ks.cfg;1', 'utf16le').swap16()]) {
      for (let at = bytes.indexOf(name); at >= 0; at = bytes.indexOf(name, at + 1)) {
        const rec = at - 33;
        bytes.writeUInt32LE(0xffffffff, rec + 10);
        bytes.writeUInt32BE(0xffffffff, rec + 14);
        n++;
      }
    }
    assert.ok(n >= 1, 'found the ks.cfg record');
    const p = join(work, 'huge-size.iso');
    await writeFile(p, bytes);
    const img = await IsoImage.open(p);
    try {
      await assert.rejects(img.readFile('/ks.cfg'), (e: unknown) => e instanceof FileFormatError && /past the end of the image/.test(e.message));
    } finally {
      await img.close();
    }
    const r = await diffOf(p, isos[0].path);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  it('the CLI keeps its exit codes on damaged images (0 same, 1 different, 2 trouble)', async () => {
    const cut = join(work, 'cli-cut.iso');
    await writeFile(cut, isos[0].bytes.subarray(0, 17 * SECTOR + 7));
    const bad = await runCli(['diff', cut, isos[0].path, '--quiet']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.doesNotMatch(bad.stderr, /internal error/);
    const copy = join(work, 'cli-copy.iso');
    await copyFile(isos[0].path, copy);
    assert.equal((await runCli(['diff', copy, isos[0].path, '--quiet'])).code, 0);
    assert.equal((await runCli(['diff', isos[1].path, isos[0].path, '--quiet'])).code, 1);
  });
});
