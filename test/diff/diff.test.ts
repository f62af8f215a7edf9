// End-to-end: real ISOs built with xorriso, real repos (rpmbuild + createrepo_c),
// compared through the same entry point the CLI uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { diffReleases, runDiff } from '../../builder/diff/command.js';
import type { DiffReport } from '../../builder/diff/report-types.js';
import { tempDir } from './fixtures.js';
import { R1, R2, buildRelease } from './scenario.js';

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runDiff(argv, { stdout, stderr, env });
  return { code, out: stdout.text, err: stderr.text };
}

/** The lines of one text section (title line to the next blank line), without indentation. */
function textSection(out: string, title: string): string[] | null {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l === title || l.startsWith(`${title}  `));
  if (i < 0) return null;
  const body: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j] !== ''; j++) body.push(lines[j].trim());
  return body;
}

const schemaPath = fileURLToPath(new URL('../../../schemas/diff.schema.json', import.meta.url));

describe('xsbuild diff on two releases of a site', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let r1: string;
  let r2: string;
  let r1Root: string;
  let r1Again: string;
  let bare: string;

  before(async () => {
    ({ dir: work, cleanup } = await tempDir('releases'));
    const [a, b, c, d] = await Promise.all([
      buildRelease(work, 'r1', R1),
      buildRelease(work, 'r2', R2),
      buildRelease(work, 'r1-again', R1),
      buildRelease(work, 'r1-bare', { ...R1, manifest: false }),
    ]);
    r1 = a.iso;
    r1Root = a.root;
    r2 = b.iso;
    r1Again = c.iso;
    bare = d.iso;
  });
  after(() => cleanup());

  function assertScenario(r: DiffReport): void {
    assert.deepEqual(r.release.changes, [{ field: 'release', a: '2024.05', b: '2024.06' }]);
    assert.deepEqual(r.layers.added, []);
    assert.deepEqual(r.layers.removed, []);
    assert.deepEqual(r.layers.changed.map((l) => [l.name, l.a.version, l.b.version]), [['school', '2.0', '2.1']]);
    assert.deepEqual(r.packagesRequested, { available: true, added: ['htop'], removed: ['nano'] });
    assert.equal(r.packagesShipped.available, true);
    assert.deepEqual(r.packagesShipped.added.map((p) => p.nevra), ['htop-3.0-1.noarch']);
    assert.deepEqual(r.packagesShipped.removed.map((p) => p.nevra), ['nano-5.0-1.noarch']);
    assert.deepEqual(r.packagesShipped.upgraded, []);
    assert.deepEqual(r.packagesShipped.downgraded, []);
    assert.equal(r.kickstart.changed, true);
    const ksLines = r.kickstart.diff!.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l));
    assert.deepEqual(ksLines, ['-timezone Europe/Madrid', '+timezone UTC', '-nano', '+htop']);
    assert.deepEqual(r.boot.added, []);
    assert.deepEqual(r.boot.removed, []);
    assert.deepEqual(r.boot.changed.map((c) => [c.config, c.label, c.argsAdded, c.argsRemoved, c.kernel, c.initrd]),
      [['isolinux/isolinux.cfg', 'linux', ['inst.text'], [], null, null]]);
    // Files nobody else accounts for: only the rename.
    const own = <T extends { shownIn: string | null }>(xs: T[]) => xs.filter((x) => x.shownIn === null);
    assert.deepEqual(own(r.files.added), []);
    assert.deepEqual(own(r.files.removed), []);
    assert.deepEqual(own(r.files.changed), []);
    assert.deepEqual(r.files.renamed.map((f) => [f.from, f.to, f.size, f.shownIn]), [['/docs/guide.txt', '/docs/manual.txt', 40000, null]]);
    // Everything else the file list holds is explained by exactly one section.
    const owned = [...r.files.added, ...r.files.removed, ...r.files.changed].map((f) => `${f.shownIn} ${f.path}`).sort();
    assert.ok(owned.includes('kickstart /ks.cfg'), owned.join('\n'));
    assert.ok(owned.includes('boot /isolinux/isolinux.cfg'), owned.join('\n'));
    assert.ok(owned.includes('library /library/wiki/index.html'), owned.join('\n'));
    assert.ok(owned.includes('packages /repo/Packages/htop-3.0-1.noarch.rpm'), owned.join('\n'));
    assert.ok(owned.includes('packages /repo/Packages/nano-5.0-1.noarch.rpm'), owned.join('\n'));
    assert.ok(owned.filter((o) => !/^(kickstart \/ks\.cfg|boot \/isolinux\/isolinux\.cfg|library \/library\/wiki\/index\.html|packages \/repo\/)/.test(o)).length === 0, owned.join('\n'));
    assert.deepEqual(r.library.dests.map((d) => [d.dest, d.added.files, d.removed.files, d.changed.files, d.renamed.files, d.unchanged.files]),
      [['/library', 0, 0, 1, 0, 1]]);
    assert.equal(r.same, false);
    // release + layer + 2 requested + 2 shipped + kickstart + boot entry + rename + library file
    assert.equal(r.totals.differences, 10);
  }

  it('reports exactly the seven changes, from the manifests', async () => {
    const r = await diffReleases(r1, r2, { quiet: true });
    assert.equal(r.a.filesFrom, 'manifest');
    assertScenario(r);
  });

  it('reports the same when it hashes the images instead (--scan)', async () => {
    const r = await diffReleases(r1, r2, { scan: true, quiet: true });
    assert.equal(r.a.filesFrom, 'scan');
    assert.equal(r.b.filesFrom, 'scan');
    assertScenario(r);
  });

  it('prints them, and only them, as text; exit 1', async () => {
    const { code, out, err } = await run([r1, r2]);
    assert.equal(code, 1, err);
    assert.equal(err, '');
    assert.doesNotMatch(out, /\x1b\[/, 'no colour when stdout is not a terminal');
    assert.deepEqual(textSection(out, 'Release'), ['release  2024.05  →  2024.06']);
    assert.deepEqual(textSection(out, 'Layers'), ['~  school  2.0 → 2.1']);
    assert.deepEqual(textSection(out, 'Packages requested'), ['+  htop', '-  nano']);
    assert.deepEqual(textSection(out, 'Packages shipped'), ['+  htop-3.0-1.noarch', '-  nano-5.0-1.noarch']);
    assert.deepEqual(textSection(out, 'Kickstart')?.filter((l) => /^[-+](?![-+]{2} )/.test(l)), ['-timezone Europe/Madrid', '+timezone UTC', '-nano', '+htop']);
    assert.deepEqual(textSection(out, 'Boot entries'), ['~ isolinux/isolinux.cfg  linux  +inst.text']);
    const files = textSection(out, 'Files')!;
    assert.match(files[0], /^R {2}\/docs\/guide\.txt → \/docs\/manual\.txt {2}39\.1 KiB$/);
    assert.match(files[1], /^\(\d+ more file changes shown in the sections above and below; --files lists every file\)$/);
    assert.equal(files.length, 2);
    assert.match(textSection(out, 'Library content')![0], /^\/library {2}~1 file \(12 B → 25 B\) {2}1 file unchanged$/);
    assert.equal(textSection(out, 'Not compared'), null);
    assert.match(out, /^10 differences: 1 release field, 1 layer, 2 requested packages, 2 shipped packages, kickstart, 1 boot entry, 1 file, 1 library file$/m);
  });

  it('colours only when asked or on a terminal', async () => {
    const stdout = Object.assign(new Capture(), { isTTY: true });
    const stderr = new Capture();
    assert.equal(await runDiff([r1, r2], { stdout, stderr, env: {} }), 1);
    assert.match(stdout.text, /\x1b\[32m\+\x1b\[0m/);
    const plain = Object.assign(new Capture(), { isTTY: true });
    assert.equal(await runDiff([r1, r2, '--no-color'], { stdout: plain, stderr, env: {} }), 1);
    assert.doesNotMatch(plain.text, /\x1b\[/);
    const noColor = Object.assign(new Capture(), { isTTY: true });
    assert.equal(await runDiff([r1, r2], { stdout: noColor, stderr, env: { NO_COLOR: '1' } }), 1);
    assert.doesNotMatch(noColor.text, /\x1b\[/);
  });

  it('--files lists every changed file with the section that accounts for it', async () => {
    const { out } = await run([r1, r2, '--files']);
    const files = textSection(out, 'Files')!;
    assert.ok(files.some((l) => /^~ {2}\/ks\.cfg .*\[kickstart\]$/.test(l)), files.join('\n'));
    assert.ok(files.some((l) => /^~ {2}\/library\/wiki\/index\.html .*\[library\]$/.test(l)), files.join('\n'));
    assert.ok(files.some((l) => /^\+ {2}\/repo\/Packages\/htop-3\.0-1\.noarch\.rpm .*\[packages\]$/.test(l)), files.join('\n'));
    assert.ok(!files.some((l) => l.includes('more file change')));
  });

  it('gives complete JSON that validates against the published schema', async () => {
    const { code, out } = await run([r1, r2, '--json']);
    assert.equal(code, 1);
    const report = JSON.parse(out) as DiffReport;
    assertScenario(report);
    const ajv = new Ajv2020.default({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
    assert.ok(validate(report), JSON.stringify(validate.errors, null, 2));
    // A report missing a section must not validate: the schema really constrains.
    const broken = { ...report } as Partial<DiffReport>;
    delete broken.files;
    assert.equal(validate(broken), false);
  });

  it('writes Markdown for a pull-request comment', async () => {
    const { code, out } = await run([r1, r2, '--markdown']);
    assert.equal(code, 1);
    assert.match(out, /^### xsbuild diff: rioja 2024\.05 → rioja 2024\.06$/m);
    assert.match(out, /^\| changed \| `school` \| `2\.0` \| `2\.1` \|$/m);
    assert.match(out, /^\| added \| `htop\.noarch` \| {2}\| `htop-3\.0-1\.noarch` \|$/m);
    assert.match(out, /^```diff\n[\s\S]*^\+timezone UTC$/m);
    assert.match(out, /^\| renamed \| `\/docs\/guide\.txt` → `\/docs\/manual\.txt` \| 39\.1 KiB \|$/m);
  });

  it('two byte-identical builds: exit 0, nothing reported', async () => {
    assert.deepEqual(readFileSync(r1), readFileSync(r1Again), 'the fixture builds must be reproducible');
    const { code, out } = await run([r1, r1Again]);
    assert.equal(code, 0);
    assert.deepEqual(out.trim().split('\n').slice(2), ['', 'No differences.', 'size 1.0 MiB → 1.0 MiB (±0 B)'].map((l) => l));
    const scanned = await diffReleases(r1, r1Again, { scan: true, quiet: true });
    assert.equal(scanned.same, true);
    assert.equal(scanned.totals.differences, 0);
  });

  it('an ISO without a manifest against one with a manifest', async () => {
    const r = await diffReleases(bare, r2, { quiet: true });
    assert.equal(r.a.manifest, false);
    assert.equal(r.a.filesFrom, 'scan');
    assert.equal(r.b.filesFrom, 'manifest');
    assert.deepEqual(r.release.changes, [{ field: 'manifest', a: 'absent', b: 'present' }]);
    assert.equal(r.layers.available, false);
    assert.match(r.layers.reason!, /A has no manifest/);
    assert.equal(r.packagesRequested.available, false);
    // File, package, kickstart and boot levels still work without A's manifest.
    assert.deepEqual(r.packagesShipped.added.map((p) => p.nevra), ['htop-3.0-1.noarch']);
    assert.deepEqual(r.packagesShipped.removed.map((p) => p.nevra), ['nano-5.0-1.noarch']);
    assert.equal(r.kickstart.changed, true);
    assert.equal(r.boot.from, 'configs', 'both are images: compare what their boot configs say');
    assert.deepEqual(r.boot.changed.map((c) => [c.config, c.argsAdded]), [['isolinux/isolinux.cfg', ['inst.text']]]);
    assert.deepEqual(r.files.renamed.map((f) => [f.from, f.to]), [['/docs/guide.txt', '/docs/manual.txt']]);
    // The bare ISO has no library destinations of its own: B's manifest names them.
    assert.deepEqual(r.library.dests.map((d) => [d.dest, d.changed.files]), [['/library', 1]]);

    const same = await diffReleases(bare, r1, { quiet: true });
    const fileChanges = same.totals.files;
    assert.deepEqual(fileChanges, { added: 0, removed: 0, changed: 0, renamed: 0 });
    assert.deepEqual(same.release.changes, [{ field: 'manifest', a: 'absent', b: 'present' }]);
    const { code, out } = await run([bare, r1]);
    assert.equal(code, 1);
    assert.match(textSection(out, 'Not compared')!.join('\n'), /layers +A has no manifest/);
  });

  it('reads an out/<site>/ directory and a bare manifest.json', async () => {
    const { dir: out, cleanup: done } = await tempDir('outdir');
    try {
      const m = JSON.parse(readFileSync(join(r1Root, '.xsbuild/manifest.json'), 'utf8'));
      m.iso = { name: 'xs-rioja-2024.05.iso', size: readFileSync(r1).length, sha256: '0'.repeat(64) };
      await writeFile(join(out, 'manifest.json'), JSON.stringify(m));
      await copyFile(r1, join(out, m.iso.name));
      const viaDir = await diffReleases(out, r2, { quiet: true });
      assertScenario(viaDir);
      assert.equal(viaDir.a.kind, 'out-dir');
      // Without the ISO beside it, package and kickstart text are out of reach, but hashes are not.
      await rm(join(out, m.iso.name));
      const viaManifest = await diffReleases(join(out, 'manifest.json'), r2, { quiet: true });
      assert.equal(viaManifest.a.kind, 'manifest');
      assert.equal(viaManifest.packagesShipped.available, false);
      assert.equal(viaManifest.kickstart.changed, true);
      assert.equal(viaManifest.kickstart.diff, null);
      assert.deepEqual(viaManifest.layers.changed.map((l) => l.name), ['school']);
      const { code, err } = await run([join(out, 'manifest.json'), r2, '--scan']);
      assert.equal(code, 2);
      assert.match(err, /manifest\.json: --scan needs the ISO, but its ISO xs-rioja-2024\.05\.iso is not beside it/);
    } finally {
      await done();
    }
  });

  it('trouble is exit 2 with a message naming the file', async () => {
    const { dir, cleanup: done } = await tempDir('bad');
    try {
      const junk = join(dir, 'junk.iso');
      await writeFile(junk, Buffer.alloc(40000, 7));
      let res = await run([junk, r1]);
      assert.equal(res.code, 2);
      assert.match(res.err, /junk\.iso: not an ISO 9660 image/);
      res = await run([join(dir, 'missing.iso'), r1]);
      assert.equal(res.code, 2);
      assert.match(res.err, /missing\.iso: no such file or directory/);
      const badJson = join(dir, 'manifest.json');
      await writeFile(badJson, '{"manifestVersion": 1, "site": 3}');
      res = await run([badJson, r1]);
      assert.equal(res.code, 2);
      assert.match(res.err, /manifest\.json: field "site" must be a string/);
      res = await run([r1]);
      assert.equal(res.code, 2);
      assert.match(res.err, /expected two releases to compare, got 1/);
      res = await run([r1, r2, '--bogus']);
      assert.equal(res.code, 2);
      assert.match(res.err, /unknown option --bogus/);
    } finally {
      await done();
    }
  });
});
