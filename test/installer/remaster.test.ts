// Remastering a real-layout installer ISO (and the same tree): boot configs change only
// where they must, the base's boot setup is kept, the media check passes, the manifest
// lists what ships and what installs, and two remasters are byte-identical.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, open, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildSite, type BuildResult } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { extractFromIso } from '../../builder/tools/xorriso.js';
import { fatRead } from '../../builder/tools/mtools.js';
import { checkIsoMd5 } from '../../builder/tools/isomd5.js';
import { sha256File } from '../../lib/hash.js';
import { execFileSync } from 'node:child_process';
import { buildFixture, removeFixture, siteYaml, EPOCH, type Fixture } from './fixture.js';
import { ESCAPED, LABEL } from './fixture-configs.js';

let fx: Fixture;
let a: BuildResult;
const VOLID = 'XS-XSDVD-2026_11';
const KS = `inst.ks=hd:LABEL=${VOLID}:/ks.cfg`;
const CONFIGS = ['/isolinux/isolinux.cfg', '/EFI/BOOT/grub.cfg', '/boot/grub2/grub.cfg'];

before(async () => {
  process.env.SOURCE_DATE_EPOCH = String(EPOCH);
  fx = await buildFixture();
  a = await buildSite({ site: 'xsdvd', root: fx.project, outDir: path.join(fx.dir, 'out-a'), reporter: silentReporter });
});

after(async () => {
  await removeFixture(fx);
});

async function isoText(iso: string, p: string, tag: string): Promise<string> {
  const dest = path.join(fx.dir, 'x', `${tag}-${p.replace(/\//g, '_')}`);
  await mkdir(path.dirname(dest), { recursive: true });
  await extractFromIso(iso, p, dest);
  return readFile(dest, 'utf8');
}

async function efibootGrub(iso: string, tag: string): Promise<string> {
  const img = path.join(fx.dir, 'x', `${tag}-efiboot.img`);
  await mkdir(path.dirname(img), { recursive: true });
  await extractFromIso(iso, '/images/efiboot.img', img);
  await fatRead(img, 'EFI/BOOT/grub.cfg', `${img}.grub.cfg`);
  return readFile(`${img}.grub.cfg`, 'utf8');
}

/**
 * Undo exactly the edits that are allowed (our kickstart and site argument appended,
 * the overlay initrd appended, the new label), so what remains must equal the base.
 */
function undo(line: string): string {
  return line
    .replace(` ${KS} xs.site=xsdvd`, '')
    .replace(',/images/xsbuild/overlay.img', '')
    .replace(' /images/xsbuild/overlay.img', '')
    .replace(`LABEL=${VOLID}`, `LABEL=${ESCAPED}`)
    .replace(`-l '${VOLID}'`, `-l '${LABEL}'`);
}

function compareLines(name: string, before: string, after: string): number {
  const b = before.split('\n');
  const x = after.split('\n');
  assert.equal(x.length, b.length, `${name}: line count changed`);
  let entries = 0;
  for (let i = 0; i < b.length; i++) {
    if (/^\s*(append|linux|linuxefi|linux16)\s/.test(b[i])) {
      entries++;
      assert.equal(x[i].split(KS).length - 1, 1, `${name}:${i + 1}: inst.ks must appear exactly once: ${x[i]}`);
      assert.ok(!x[i].includes(ESCAPED), `${name}:${i + 1}: old label left: ${x[i]}`);
    }
    if (x[i] !== b[i]) assert.equal(undo(x[i]), b[i], `${name}:${i + 1}: unexpected change`);
  }
  return entries;
}

test('every boot entry of every config carries inst.ks; nothing else changed', async () => {
  let entries = 0;
  for (const p of CONFIGS) entries += compareLines(p, await readFile(path.join(fx.tree, p), 'utf8'), await isoText(a.iso, p, 'a'));
  entries += compareLines('efiboot.img:EFI/BOOT/grub.cfg', await efibootGrub(fx.iso, 'base'), await efibootGrub(a.iso, 'a'));
  assert.equal(entries, 16, 'four Linux entries in each of four configs');
  // The manifest says the same.
  assert.equal(a.manifest.bootEntries.length, 16);
  for (const e of a.manifest.bootEntries) assert.ok(e.args.includes(KS) && e.args.includes('xs.site=xsdvd'), `${e.config} ${e.label}`);
});

test('the base boot setup is replayed (El Torito, hybrid MBR, GPT) and the media check passes', async () => {
  const report = (iso: string) =>
    execFileSync('xorriso', ['-no_rc', '-indev', iso, '-report_el_torito', 'as_mkisofs'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter((l) => !/^(-V |--modification-date|-isohybrid-mbr)/.test(l));
  assert.deepEqual(report(a.iso), report(fx.iso));
  const md5 = await checkIsoMd5(a.iso);
  assert.ok(md5.ok, md5.output);
  // The volume label is the site's.
  assert.equal(execFileSync('xorriso', ['-no_rc', '-indev', a.iso, '-pvd_info'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().match(/Volume Id\s*:\s*(\S+)/)?.[1], VOLID);
});

test('manifest: base, repositories with NEVRA + sha256, the install set, every file', async () => {
  const m = a.manifest;
  assert.deepEqual(m.base, { kind: 'iso', version: 'XS 7', sha256: fx.isoSha256 });
  assert.deepEqual(m.repos?.map((r) => `${r.origin}:${r.name}:${r.path}`), ['base:AppStream:/AppStream', 'base:BaseOS:/BaseOS', 'site:xs-xsdvd:/xs-xsdvd']);
  const site = m.repos!.find((r) => r.origin === 'site')!;
  assert.deepEqual(site.packages.map((p) => p.nevra), ['xs-hello-1.0-1.noarch', 'xs-hello-doc-1.0-1.noarch']);
  for (const [i, p] of site.packages.entries()) assert.equal(p.sha256, await sha256File(fx.rpms.hello[i]));
  const baseos = m.repos!.find((r) => r.name === 'BaseOS')!;
  const lib = baseos.packages.find((p) => p.nevra === 'xs-libhello-1.2-1.noarch')!;
  assert.equal(lib.file, '/BaseOS/Packages/xs-libhello-1.2-1.noarch.rpm');
  assert.equal(lib.sha256, await sha256File(path.join(fx.tree, lib.file)));
  // @core comes in implicitly, as Anaconda adds it; dependencies across repositories resolve.
  assert.deepEqual(m.installSet, ['xs-filesystem-1.0-1.noarch', 'xs-hello-1.0-1.noarch', 'xs-hello-doc-1.0-1.noarch', 'xs-libhello-1.2-1.noarch', 'xs-webtool-2.0-1.noarch']);
  // Every file on the media is listed: the base's own, ours, and what mastering patched.
  const files = new Map(m.files.map((f) => [f.path, f]));
  for (const p of ['/BaseOS/repodata/repomd.xml', '/images/install.img', '/ks.cfg', '/xs-xsdvd/repodata/repomd.xml', '/isolinux/isolinux.bin', '/isolinux/boot.cat', '/images/efiboot.img', '/.treeinfo']) {
    assert.ok(files.has(p), `${p} missing from the manifest`);
  }
  assert.equal(files.get('/images/install.img')!.sha256, await sha256File(path.join(fx.tree, 'images/install.img')));
  const listed = execFileSync('xorriso', ['-no_rc', '-indev', a.iso, '-find', '/', '-not', '-type', 'd'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().split('\n').filter(Boolean).map((l) => l.replace(/^'(.*)'$/, '$1')).sort();
  assert.deepEqual(m.files.map((f) => f.path).sort(), listed);
  // The kickstart points at the site repository on the media.
  const ks = await isoText(a.iso, '/ks.cfg', 'a');
  assert.match(ks, /^repo --name=xs-xsdvd --baseurl=file:\/\/\/run\/install\/repo\/xs-xsdvd$/m);
  assert.match(ks, /^xs-hello$/m);
});

test('two remasters of the same base and site are byte-identical (other umask)', async () => {
  const old = process.umask(0o077);
  let b: BuildResult;
  try {
    b = await buildSite({ site: 'xsdvd', root: fx.project, outDir: path.join(fx.dir, 'out-b'), reporter: silentReporter });
  } finally {
    process.umask(old);
  }
  for (const n of [path.basename(a.iso), 'manifest.json', 'SHA256SUMS']) {
    const [x, y] = [await readFile(path.join(a.outDir, n)), await readFile(path.join(b.outDir, n))];
    assert.ok(x.equals(y), `${n} differs between two remasters`);
  }
});

test('a base ISO remembered by its identity is read again once changed, and refused if its sha256 no longer matches', async () => {
  const copy = path.join(fx.dir, 'dvd-copy.iso');
  await copyFile(fx.iso, copy);
  await writeFile(path.join(fx.project, 'sites/xscopy.yaml'), siteYaml({ iso: copy, sha256: fx.isoSha256 }, [], ['xs-hello'], 'xscopy'));
  const infos: string[] = [];
  const r = { ...silentReporter, info: (m: string) => infos.push(m) };
  await buildSite({ site: 'xscopy', root: fx.project, outDir: path.join(fx.dir, 'out-copy'), reporter: r });
  assert.ok(infos.some((m) => m.startsWith('checking sha256 of dvd-copy.iso')), 'first build reads the base');
  infos.length = 0;
  await buildSite({ site: 'xscopy', root: fx.project, outDir: path.join(fx.dir, 'out-copy'), reporter: r });
  assert.ok(!infos.some((m) => m.startsWith('checking sha256')), `unchanged base read again: ${infos.join('; ')}`);
  // One byte flipped in place, size and mtime put back: still found out (ctime moved).
  const st = await stat(copy);
  const fh = await open(copy, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, 40000);
  await fh.write(Buffer.from([b[0] ^ 0xff]), 0, 1, 40000);
  await fh.close();
  await utimes(copy, st.atime, st.mtime);
  await assert.rejects(
    buildSite({ site: 'xscopy', root: fx.project, outDir: path.join(fx.dir, 'out-copy'), reporter: silentReporter }),
    (e: Error) => /has sha256 [0-9a-f]{64}, but the site expects/.test(e.message),
  );
});

test('base: {tree} gives the same boot configs and layout as the ISO it came from', async () => {
  // Same volume id as the ISO build, so the configs must match byte for byte.
  await writeFile(path.join(fx.project, 'sites/xstree.yaml'), siteYaml({ tree: fx.tree }, [`volumeId: ${VOLID}`], ['xs-hello'], 'xstree'));
  const t = await buildSite({ site: 'xstree', root: fx.project, outDir: path.join(fx.dir, 'out-tree'), reporter: silentReporter });
  for (const p of CONFIGS) assert.equal(await isoText(t.iso, p, 'tree'), await isoText(a.iso, p, 'a2'), p);
  assert.equal(await efibootGrub(t.iso, 'tree'), await efibootGrub(a.iso, 'a2'));
  assert.equal(t.manifest.base.kind, 'tree');
  assert.equal(t.manifest.base.version, 'XS 7');
  assert.deepEqual(t.manifest.installSet, a.manifest.installSet);
  const paths = (m: BuildResult) => m.manifest.files.map((f) => f.path.replace(/^\/xs-xstree\//, '/xs-xsdvd/'));
  assert.deepEqual(paths(t), paths(a));
  const md5 = await checkIsoMd5(t.iso);
  assert.ok(md5.ok, md5.output);
});
