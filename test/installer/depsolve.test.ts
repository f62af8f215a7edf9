// Depsolve at build time: %packages is resolved with dnf against the base's repositories
// plus the site's, before mastering. A package nothing ships, a package with a broken
// dependency, and an exclusion that removes a needed dependency each fail the build with
// exit 2, naming the layer (file:line:col) that asked; a good site passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/project.js';
import { buildFixture, removeFixture, siteYaml, type Fixture } from './fixture.js';
import type { Manifest } from '../../builder/manifest-types.js';

let fx: Fixture;

before(async () => {
  fx = await buildFixture();
  // A layer shipping a package whose dependency nothing provides.
  await mkdir(path.join(fx.project, 'layers/xs-broken/rpms'), { recursive: true });
  await copyFile(fx.rpms.broken, path.join(fx.project, 'layers/xs-broken/rpms', path.basename(fx.rpms.broken)));
  await writeFile(path.join(fx.project, 'layers/xs-broken/layer.yaml'), 'name: xs-broken\nversion: 0.1.0\nrequires: [xs-hello]\npackages:\n  - xs-broken\nrpms: [rpms]\n');
});

after(async () => {
  await removeFixture(fx);
});

async function build(layers: string[], edit?: (layerYaml: string) => string) {
  const layerFile = path.join(fx.project, 'layers/xs-hello/layer.yaml');
  const orig = await readFile(layerFile, 'utf8');
  if (edit) await writeFile(layerFile, edit(orig));
  await writeFile(path.join(fx.project, 'sites/xsdvd.yaml'), siteYaml({ iso: fx.iso, sha256: fx.isoSha256 }, [], layers));
  const out = path.join(fx.dir, 'out');
  try {
    return { ...(await runCli(['build', 'xsdvd', '--out', out], { cwd: fx.project })), out };
  } finally {
    await writeFile(layerFile, orig);
  }
}

test('a package no repository has: exit 2, names the layer entry and the repositories', async () => {
  const r = await build(['xs-hello'], (y) => y.replace('  - xs-hello-doc\n', '  - xs-hello-doc\n  - xs-nonesuch\n'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /layers\/xs-hello\/layer\.yaml:7:5: packages\[2\]: package "xs-nonesuch" \(asked for by layer xs-hello\) is in none of the repositories \(AppStream, BaseOS, xs-xsdvd\)/);
  assert.match(r.stderr, /hint: ship its RPM in the layer \(rpms:\)/);
});

test('a package with a dependency nothing provides: exit 2, dnf\'s reason, the layer', async () => {
  const r = await build(['xs-hello', 'xs-broken']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /layers\/xs-broken\/layer\.yaml:5:5: packages\[0\]: package "xs-broken" \(asked for by layer xs-broken\) cannot be installed:/);
  assert.match(r.stderr, /nothing provides xs-nothere >= 3 needed by xs-broken-1\.0-1\.noarch/);
  // Only the broken request is blamed.
  assert.doesNotMatch(r.stderr, /package "xs-hello"/);
});

test('an exclusion that removes a needed dependency: exit 2, names what needs it', async () => {
  const r = await build(['xs-hello'], (y) => `${y}excludePackages: [xs-webtool]\n`);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /packages\[0\]: package "xs-hello" \(asked for by layer xs-hello\) cannot be installed:[\s\S]*xs-webtool[\s\S]*filtered out by exclude filtering/);
});

test('a good site resolves, across BaseOS, AppStream and the site repository', async () => {
  const r = await build(['xs-hello']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(await readFile(path.join(r.out, 'xsdvd', 'manifest.json'), 'utf8')) as Manifest;
  assert.ok(m.installSet?.includes('xs-webtool-2.0-1.noarch') && m.installSet.includes('xs-hello-doc-1.0-1.noarch'));
});
