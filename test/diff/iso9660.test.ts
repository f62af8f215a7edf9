// The ISO 9660 reader against xorriso's own view of the same images: every path, size
// and byte, with Rock Ridge, with Joliet only, and with plain ISO 9660 names.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { hashImageFiles } from '../../lib/iso-hash.js';
import { IsoImage } from '../../lib/iso9660.js';
import { EPOCH, listTree, sha256File, tempDir, writeTree } from './fixtures.js';

describe('ISO 9660 reader', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let tree: string;
  const deep = 'a/b/c/d/e/f/g/h/i/j/k/deep file with spaces and a name well past the 31 characters of ISO 9660.txt';

  before(async () => {
    ({ dir: work, cleanup } = await tempDir('iso'));
    tree = join(work, 'tree');
    await writeTree(tree, {
      'ks.cfg': 'text\n',
      'images/pxeboot/vmlinuz': randomBytes(70_000),
      'big/blob.bin': randomBytes(3 << 20),
      'empty.txt': '',
      [deep]: 'deep\n',
      'library/música/canción-ñandú.ogg': randomBytes(5000),
      'same/one.bin': Buffer.alloc(9000, 1),
      'same/two.bin': Buffer.alloc(9000, 1),
    });
    // Enough entries that the directory spans several sectors.
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) many[`Packages/package-number-${i}-1.0-1.el9.x86_64.rpm`] = `rpm ${i}\n`;
    await writeTree(tree, many);
    await mkdir(join(tree, 'links'), { recursive: true });
    await symlink('../ks.cfg', join(tree, 'links/ks-link'));
  });
  after(() => cleanup());

  async function master(name: string, flags: string[]): Promise<string> {
    const iso = join(work, name);
    await execa('xorriso', ['-no_rc', '-local_charset', 'UTF-8', '-as', 'mkisofs', '-quiet', ...flags, '-V', 'TEST VOL', '-o', iso, tree], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    return iso;
  }

  it('Rock Ridge: every file with its real name, size and bytes', async () => {
    const iso = await master('rr.iso', ['-R', '-J']);
    const img = await IsoImage.open(iso);
    try {
      assert.equal(img.volumeId, 'TEST VOL');
      const entries = await img.list();
      const files = entries.filter((e) => e.kind === 'file');
      const want = await listTree(tree);
      assert.deepEqual(files.map((e) => e.path).sort(), want);
      assert.deepEqual(entries.filter((e) => e.kind === 'symlink').map((e) => [e.path, e.target]), [['/links/ks-link', '../ks.cfg']]);
      const hashes = await hashImageFiles(iso, files.map((e) => ({ path: e.path, extents: e.extents })), () => {});
      for (let i = 0; i < files.length; i++) {
        assert.equal(files[i].size, (await import('node:fs')).statSync(join(tree, files[i].path)).size, files[i].path);
        assert.equal(hashes[i], await sha256File(join(tree, files[i].path)), files[i].path);
      }
      assert.equal(String(await img.readFile(`/${deep}`)), 'deep\n');
      assert.equal(await img.readFile('/no/such/file'), null);
      assert.equal((await img.stat('/Packages/package-number-299-1.0-1.el9.x86_64.rpm'))?.size, 'rpm 299\n'.length);
    } finally {
      await img.close();
    }
  });

  it('agrees with xorriso -find on the list of files', async () => {
    const iso = join(work, 'rr.iso');
    const { stdout } = await execa('xorriso', ['-no_rc', '-indev', iso, '-find', '/', '-type', 'f'], { stderr: 'ignore' });
    const theirs = stdout.split('\n').filter(Boolean).map((l) => l.replace(/^'(.*)'$/, '$1').replace(/'"'"'/g, "'")).sort();
    const img = await IsoImage.open(iso);
    const ours = (await img.list()).filter((e) => e.kind === 'file').map((e) => e.path).sort();
    await img.close();
    assert.deepEqual(ours, theirs);
  });

  it('Joliet only: long names from the supplementary descriptor', async () => {
    const iso = await master('joliet.iso', ['--norock', '-J', '-joliet-long']);
    const img = await IsoImage.open(iso);
    try {
      const files = (await img.list()).filter((e) => e.kind === 'file').map((e) => e.path);
      assert.ok(files.includes('/library/música/canción-ñandú.ogg'), files.join('\n'));
      assert.ok(files.includes('/ks.cfg'));
      assert.equal(String(await img.readFile('/ks.cfg')), 'text\n');
    } finally {
      await img.close();
    }
  });

  it('plain ISO 9660: 8.3 names without the ";1" version', async () => {
    const iso = await master('plain.iso', ['--norock']);
    const img = await IsoImage.open(iso);
    try {
      const files = (await img.list()).filter((e) => e.kind === 'file').map((e) => e.path);
      assert.ok(files.includes('/KS.CFG'), files.slice(0, 10).join('\n'));
      assert.ok(files.every((p) => !p.includes(';')));
      assert.equal(String(await img.readFile('/KS.CFG')), 'text\n');
    } finally {
      await img.close();
    }
  });

  it('hard-linked or repeated extents are hashed once and give equal hashes', async () => {
    const iso = join(work, 'rr.iso');
    const img = await IsoImage.open(iso);
    const one = (await img.stat('/same/one.bin'))!;
    await img.close();
    let bytes = 0;
    const hashes = await hashImageFiles(iso, [{ path: 'x', extents: one.extents }, { path: 'y', extents: one.extents }], (n) => (bytes += n));
    assert.equal(hashes[0], createHash('sha256').update(Buffer.alloc(9000, 1)).digest('hex'));
    assert.equal(hashes[1], hashes[0]);
    assert.equal(bytes, 9000);
  });

  it('refuses a file that is not an image, naming it', async () => {
    const junk = join(work, 'junk.bin');
    await writeTree(work, { 'junk.bin': randomBytes(50_000) });
    await assert.rejects(IsoImage.open(junk), /junk\.bin: not an ISO 9660 image/);
  });
});
