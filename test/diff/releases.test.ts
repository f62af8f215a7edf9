// Two real releases of a site, built by the pipeline from scratch copies of the
// project's data, differing in one layer's version, one added and one removed package,
// one kickstart line, one boot argument, one library file and one renamed media file.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diffReleases } from '../../builder/diff/command.js';
import type { DiffReport } from '../../builder/diff/report-types.js';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { removeProject, scratchProject } from '../helpers/project.js';

async function edit(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `${file}: ${from} not found; the fixture edit needs updating`);
  await writeFile(file, next);
}

describe('two real releases of rioja', () => {
  const dirs: string[] = [];
  let one: string;
  let two: string;
  let again: string;

  before(async () => {
    process.env.SOURCE_DATE_EPOCH ??= '1790000000';
    const p1 = await scratchProject('xsdiff-rel1-');
    const p2 = await scratchProject('xsdiff-rel2-');
    dirs.push(p1, p2);
    await edit(join(p2, 'layers/content-library/layer.yaml'), /^version: .*$/m, 'version: 2.2.0');
    await edit(join(p2, 'layers/xs-core/layer.yaml'), '  - rsync\n', '  - htop\n');
    await edit(join(p2, 'sites/rioja.yaml'), 'timezone: America/Argentina/La_Rioja', 'timezone: America/Argentina/Buenos_Aires');
    await edit(join(p2, 'sites/rioja.yaml'), 'boot:\n  timeout: 2\n', 'boot:\n  timeout: 2\n  extraArgs: [inst.text]\n');
    await edit(join(p2, 'overlays/library/rioja/mapas.txt'), /$/, 'Mapa nuevo: Chilecito\n');
    await edit(join(p2, 'layers/xs-core/layer.yaml'), 'dest: /README-XS.txt', 'dest: /LEEME-XS.txt');
    const b1 = await buildSite({ site: 'rioja', root: p1, outDir: join(p1, 'out'), reporter: silentReporter });
    const b2 = await buildSite({ site: 'rioja', root: p2, outDir: join(p2, 'out'), reporter: silentReporter });
    const b3 = await buildSite({ site: 'rioja', root: p1, outDir: join(p1, 'out-again'), reporter: silentReporter });
    one = b1.outDir;
    two = b2.iso;
    again = b3.iso;
  });
  after(async () => {
    for (const d of dirs) await removeProject(d);
  });

  function check(r: DiffReport): void {
    assert.deepEqual(r.release.changes, []);
    // The package swap and the media rename are edits to xs-core without a version bump:
    // reported as its content changing under the same version, which is the truth.
    assert.deepEqual(r.layers.changed.map((l) => [l.name, l.a.version, l.b.version, l.a.contentSha256 !== l.b.contentSha256]),
      [['content-library', '2.1.0', '2.2.0', true], ['xs-core', '1.4.0', '1.4.0', true]]);
    assert.deepEqual([r.layers.added, r.layers.removed], [[], []]);
    assert.deepEqual([r.packagesRequested.added, r.packagesRequested.removed], [['htop'], ['rsync']]);
    assert.equal(r.kickstart.changed, true);
    const ks = r.kickstart.diff!.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l));
    assert.ok(ks.includes('+htop') && ks.includes('-rsync'), ks.join('\n'));
    assert.ok(ks.includes('-timezone America/Argentina/La_Rioja --utc') && ks.includes('+timezone America/Argentina/Buenos_Aires --utc'), ks.join('\n'));
    // Every other changed line is the kickstart naming the bumped layer's version.
    const rest = ks.filter((l) => !/^[-+](htop|rsync|timezone .*)$/.test(l));
    assert.ok(rest.every((l) => /content-library[- ]2\.[12]\.0/.test(l)), ks.join('\n'));
    assert.ok(r.boot.changed.length > 0);
    for (const c of r.boot.changed) assert.deepEqual([c.argsAdded, c.argsRemoved, c.kernel, c.initrd], [['inst.text'], [], null, null], c.label);
    assert.deepEqual([r.boot.added, r.boot.removed], [[], []]);
    const own = [...r.files.added, ...r.files.removed, ...r.files.changed].filter((f) => f.shownIn === null).map((f) => f.path);
    assert.deepEqual(r.files.renamed.filter((f) => f.shownIn === null).map((f) => [f.from, f.to]), [['/README-XS.txt', '/LEEME-XS.txt']]);
    // The kickstart and boot configs are accounted for; what else changed on the media must
    // be one of the files derived from them (the initrd overlay carries the kickstart).
    assert.ok(own.every((p) => /overlay|efiboot|\.img$/.test(p)), own.join('\n'));
    const lib = r.library.dests.filter((d) => d.added.files + d.removed.files + d.changed.files + d.renamed.files > 0);
    assert.deepEqual(lib.map((d) => [d.dest, d.changed.files, d.added.files, d.removed.files]), [['/library/local', 1, 0, 0]]);
  }

  it('reports exactly those changes, from an out/ directory against an ISO', async () => {
    check(await diffReleases(one, two, { quiet: true }));
  });

  it('and the same when hashing the images', async () => {
    check(await diffReleases(one, two, { scan: true, quiet: true }));
  });

  it('two builds of the same inputs: nothing to report', async () => {
    const r = await diffReleases(one, again, { quiet: true });
    assert.equal(r.same, true, JSON.stringify(r.totals));
  });
});
