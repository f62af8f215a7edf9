// The demo base has no package repository: a site on it that ships RPMs still gets a
// composed site repository and kickstart repo line (no depsolve); one that ships none
// gets neither.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { extractFromIso } from '../../builder/tools/xorriso.js';
import { composeSiteRepo } from '../../builder/repos.js';
import { loadSite } from '../../builder/site.js';
import { resolveLayers } from '../../builder/layers.js';
import { buildFixture, removeFixture, EPOCH, type Fixture } from './fixture.js';

process.env.SOURCE_DATE_EPOCH = String(EPOCH);
let fx: Fixture | undefined;
const tmp: string[] = [];
after(async () => {
  await removeFixture(fx);
  for (const t of tmp) await rm(t, { recursive: true, force: true });
});

test('demo base + a layer with RPMs: site repo on the media, repo line, no install set', async () => {
  fx = await buildFixture();
  const site = path.join(fx.project, 'sites/rioja.yaml');
  await writeFile(site, (await readFile(site, 'utf8')).replace('layers: [xs-core,', 'layers: [xs-hello, xs-core,'));
  const b = await buildSite({ site: 'rioja', root: fx.project, outDir: path.join(fx.dir, 'out'), reporter: silentReporter });
  assert.deepEqual(b.manifest.repos?.map((r) => r.name), ['xs-rioja']);
  assert.equal(b.manifest.installSet, undefined);
  assert.ok(b.manifest.files.some((f) => f.path === '/xs-rioja/repodata/repomd.xml'));
  await extractFromIso(b.iso, '/ks.cfg', path.join(fx.dir, 'ks.cfg'));
  assert.match(await readFile(path.join(fx.dir, 'ks.cfg'), 'utf8'), /^repo --name=xs-rioja --baseurl=file:\/\/\/run\/install\/repo\/xs-rioja$/m);

  // createrepo_c output is the same bytes run after run.
  const loaded = await loadSite('rioja', { root: fx.project });
  const layers = await resolveLayers(loaded);
  const runs: Buffer[][] = [];
  for (const i of [0, 1]) {
    const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-repo-'));
    tmp.push(dir);
    const repo = await composeSiteRepo({ site: loaded, layers, epoch: EPOCH, workDir: dir });
    runs.push(await Promise.all(repo!.sources.map((s) => readFile(s.source))));
    if (i === 0) await new Promise((r) => setTimeout(r, 1100));
  }
  assert.equal(runs[0].length, runs[1].length);
  runs[0].forEach((x, i) => assert.ok(x.equals(runs[1][i]), `repo file ${i} differs between two runs`));
});

test('the shipped demo sites ship no RPMs: no repos in their manifests', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-norpm-'));
  tmp.push(dir);
  for (const d of ['sites', 'layers', 'overlays']) await cp(path.join(PROJECT_DIR, d), path.join(dir, d), { recursive: true });
  await mkdir(path.join(dir, 'out'));
  const b = await buildSite({ site: 'paraguay', root: dir, outDir: path.join(dir, 'out'), reporter: silentReporter });
  assert.equal(b.manifest.repos, undefined);
  assert.equal(b.manifest.installSet, undefined);
});
