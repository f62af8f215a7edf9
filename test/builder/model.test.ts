// Unit tests: YAML + schema errors carry file:line:col; site derivations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parseYaml } from '../../builder/yamlfile.js';
import { SiteSchema, LayerSchema } from '../../builder/schema.js';
import { InputErrors } from '../../builder/errors.js';
import { loadSite } from '../../builder/site.js';
import { scratchProject, removeProject } from '../helpers/project.js';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputErrors, `expected InputErrors, got ${e}`);
    return e.errors.map((x) => x.message);
  }
  assert.fail('no error thrown');
}

const layer = (body: string) => `name: demo\nversion: 1.0.0\n${body}`;

test('unknown layer key is reported at the key, with the allowed keys', () => {
  const [msg] = errorsOf(() => parseYaml(layer('packges:\n  - httpd\n'), LayerSchema, 'layers/demo/layer.yaml'));
  assert.match(msg, /^layers\/demo\/layer\.yaml:3:1: packges: unknown key "packges"/);
  assert.match(msg, /allowed keys here: name, version, description, requires, packages/);
});

test('nested errors point at the nested value', () => {
  const [msg] = errorsOf(() => parseYaml(layer('files:\n  - src: a\n    dest: etc/motd\n'), LayerSchema, 'l.yaml'));
  assert.match(msg, /^l\.yaml:5:11: files\[0\]\.dest: value "etc\/motd" is not valid/);
});

test('several errors are all reported, in document order', () => {
  const errs = errorsOf(() => parseYaml('name: Bad Name\nversion: one\n', LayerSchema, 'l.yaml'));
  assert.equal(errs.length, 2);
  assert.match(errs[0], /^l\.yaml:1:7: name:/);
  assert.match(errs[1], /^l\.yaml:2:10: version:/);
});

test('duplicate keys are a YAML error with a position', () => {
  const [msg] = errorsOf(() => parseYaml('name: a\nname: b\nversion: 1.0.0\n', LayerSchema, 'l.yaml'));
  assert.match(msg, /^l\.yaml:2:1: YAML syntax error: Map keys must be unique/);
});

test('a base that is none of the accepted forms lists the forms', () => {
  const text = 'site: x\nrelease: "1"\nbase: centos\n';
  const errs = errorsOf(() => parseYaml(text, SiteSchema, 's.yaml'));
  const base = errs.find((m) => m.includes('base:'));
  assert.ok(base, errs.join('\n'));
  assert.match(base, /^s\.yaml:3:7: base: value "centos" is not one of the accepted forms[\s\S]*"demo" \| \{iso, sha256\} \| \{tree\}/);
});

test('volume id is derived from site and release, upper-case ISO9660 characters', async () => {
  const dir = await scratchProject();
  try {
    const s = await loadSite(path.join(dir, 'sites', 'rioja.yaml'));
    assert.equal(s.volumeId, 'XS-RIOJA-2026_11');
    assert.equal(s.root, dir);
    const r = await loadSite('rioja', { root: dir, release: '2027.3-rc1' });
    assert.equal(r.volumeId, 'XS-RIOJA-2027_3-RC1');
    const text = (await import('node:fs/promises')).readFile;
    const site = await text(path.join(dir, 'sites', 'paraguay.yaml'), 'utf8');
    await writeFile(path.join(dir, 'sites', 'paraguay.yaml'), site.replace('base: demo', 'base: demo\nvolumeId: XS_PY'));
    assert.equal((await loadSite('paraguay', { root: dir })).volumeId, 'XS_PY');
  } finally {
    await removeProject(dir);
  }
});

test('the published JSON Schemas are current (run `make schemas` after changing builder/schema.ts)', async () => {
  const { readFile } = await import('node:fs/promises');
  const { PROJECT_DIR } = await import('../../builder/paths.js');
  for (const [name, schema] of [['site', SiteSchema], ['layer', LayerSchema]] as const) {
    const published = JSON.parse(await readFile(path.join(PROJECT_DIR, 'schemas', `${name}.schema.json`), 'utf8'));
    assert.deepEqual(published, JSON.parse(JSON.stringify(schema)), `schemas/${name}.schema.json is stale`);
  }
});
