// A table of broken sites and layers. Each must exit 2 with a message that names the
// file (and line:col where there is one) and says what to do, and leave out/ as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scratchProject, runCli } from '../helpers/project.js';


type Edit = (dir: string) => Promise<void>;

const edit = (rel: string, fn: (s: string) => string): Edit => async (dir) => {
  const p = path.join(dir, rel);
  const before = await readFile(p, 'utf8');
  const after = fn(before);
  assert.notEqual(after, before, `case edit did not change ${rel}`);
  await writeFile(p, after);
};
const write = (rel: string, text: string): Edit => async (dir) => {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), text);
};
const all = (...edits: Edit[]): Edit => async (dir) => {
  for (const e of edits) await e(dir);
};

const cases: { name: string; edit: Edit; expect: RegExp; forbid?: RegExp }[] = [
  { name: 'YAML syntax error', edit: edit('sites/rioja.yaml', (s) => s.replace('domain: rioja.escuelas.example', 'domain: [rioja')), expect: /sites\/rioja\.yaml:\d+:\d+: YAML syntax error/ },
  { name: 'unknown key in a site', edit: edit('sites/rioja.yaml', (s) => s.replace('layers:', 'layerz:')), expect: /sites\/rioja\.yaml:8:1: layerz: unknown key "layerz"[\s\S]*allowed keys here:/ },
  { name: 'unknown key in a layer', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('packages:', 'pakages:')), expect: /layers\/web-filter\/layer\.yaml:6:1: pakages: unknown key "pakages"/ },
  { name: 'missing required key', edit: edit('sites/rioja.yaml', (s) => s.replace(/^domain: .*\n/m, '')), expect: /sites\/rioja\.yaml:\d+:\d+: domain: missing required key "domain"/ },
  { name: 'bad MAC address', edit: edit('sites/rioja.yaml', (s) => s.replace('mac: 52:54:00:12:34:01', 'mac: 52-54-00-12-34-01')), expect: /sites\/rioja\.yaml:18:10: machines\[0\]\.mac: value "52-54-00-12-34-01" is not valid[\s\S]*MAC address/ },
  { name: 'invalid volume id', edit: edit('sites/rioja.yaml', (s) => s.replace('base: demo', 'base: demo\nvolumeId: "xs rioja"')), expect: /sites\/rioja\.yaml:7:11: volumeId: volume id "xs rioja" is not valid for ISO9660[\s\S]*at most 32/ },
  { name: 'volume id too long', edit: edit('sites/rioja.yaml', (s) => s.replace('base: demo', 'base: demo\nvolumeId: XS-RIOJA-2026-11-PROVINCIAL-SCHOOLS')), expect: /volumeId: volume id "XS-RIOJA-2026-11-PROVINCIAL-SCHOOLS" is not valid/ },
  { name: 'missing layer', edit: edit('sites/rioja.yaml', (s) => s.replace('web-filter,', 'web-filtre,')), expect: /sites\/rioja\.yaml:8:\d+: layer "web-filtre" not found[\s\S]*create layers\/web-filtre\/layer\.yaml/ },
  {
    name: 'layer cycle',
    edit: edit('layers/xs-core/layer.yaml', (s) => s.replace('packages:', 'requires: [xs-agent]\npackages:')),
    expect: /layers\/xs-agent\/layer\.yaml:8:12: layer cycle: xs-core → xs-agent → xs-core[\s\S]*remove one of these "requires"/,
  },
  {
    name: 'two layers write the same path',
    edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /etc/motd')),
    expect: /layers\/web-filter\/layer\.yaml:\d+:\d+: files\[1\]\.dest: \/etc\/motd is already written by layer "xs-core"[\s\S]*override: true/,
  },
  { name: 'layer name differs from its directory', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('name: web-filter', 'name: webfilter')), expect: /layers\/web-filter\/layer\.yaml:2:7: name: layer name "webfilter" does not match/ },
  { name: 'path with ..', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('src: files/blocklist.txt', 'src: ../../sites/rioja.yaml')), expect: /layers\/web-filter\/layer\.yaml:\d+:\d+: files\[1\]\.src: value "\.\.\/\.\.\/sites\/rioja\.yaml" is not valid/ },
  {
    name: 'symlink out of the layer',
    edit: all(
      async (dir) => symlink('/etc/passwd', path.join(dir, 'layers/web-filter/files/passwd')),
      edit('layers/web-filter/layer.yaml', (s) => s.replace('src: files/blocklist.txt', 'src: files/passwd')),
    ),
    expect: /layers\/web-filter\/layer\.yaml:\d+:\d+: files\[1\]\.src: path "files\/passwd" leads outside .* through a symlink/,
  },
  {
    name: 'installer ISO whose sha256 does not match',
    edit: all(write('base.iso', 'not the ISO you think\n'), edit('sites/rioja.yaml', (s) => s.replace('base: demo', `base: { iso: base.iso, sha256: ${'a'.repeat(64)} }`))),
    expect: /sites\/rioja\.yaml:6:\d+: base\.sha256: base ISO base\.iso has sha256 [0-9a-f]{64}, but the site expects a{64}[\s\S]*sha256sum base\.iso/,
  },
  { name: 'clear-text root password', edit: edit('sites/rioja.yaml', (s) => s.replace(/rootPasswordHash: .*/, 'rootPasswordHash: hunter2')), expect: /sites\/rioja\.yaml:13:21: kickstart\.rootPasswordHash: value is not valid \(not shown[^\n]*\n[^\n]*crypt\(3\) hash/, forbid: /hunter2/ },
  { name: 'undefined template variable', edit: write('layers/web-filter/kickstart/post.ks.hbs', 'systemctl enable {{squidService}}\n'), expect: /layers\/web-filter\/kickstart\/post\.ks\.hbs:1:20: template error: "squidService" not defined/ },
  { name: 'missing kickstart fragment', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('post: kickstart/post.ks.hbs', 'post: kickstart/missing.ks.hbs')), expect: /layers\/web-filter\/layer\.yaml:\d+:\d+: kickstart\.post: path "kickstart\/missing\.ks\.hbs" does not exist/ },
  { name: 'library source missing', edit: edit('sites/rioja.yaml', (s) => s.replace('source: overlays/library/rioja', 'source: overlays/library/nowhere')), expect: /sites\/rioja\.yaml:\d+:\d+: library\[1\]\.source: path "overlays\/library\/nowhere" does not exist/ },
  { name: 'site name differs from file name', edit: edit('sites/rioja.yaml', (s) => s.replace('site: rioja', 'site: larioja')), expect: /sites\/rioja\.yaml:3:7: site: site "larioja" does not match its file name "rioja"/ },
  { name: 'layer listed twice', edit: edit('sites/rioja.yaml', (s) => s.replace('layers: [xs-core,', 'layers: [xs-core, xs-core,')), expect: /layers: has duplicate entries/ },
  { name: 'private key instead of public key', edit: edit('sites/rioja.yaml', (s) => s.replace(/publicKey: .*/, 'publicKey: "-----BEGIN PRIVATE KEY-----"')), expect: /updates\.publicKey: value "-----BEGIN PRIVATE KEY-----" is not valid[\s\S]*Ed25519 public key/ },
];

test(`at least 15 broken inputs are covered (${cases.length})`, () => {
  assert.ok(cases.length >= 15);
});

for (const c of cases) {
  test(`bad input: ${c.name}`, async () => {
    const dir = await scratchProject('xsbuild-bad-');
    try {
      await c.edit(dir);
      const out = path.join(dir, 'out');
      await mkdir(path.join(out, 'rioja'), { recursive: true });
      await writeFile(path.join(out, 'rioja', 'previous-release.txt'), 'keep me\n');
      const r = await runCli(['build', path.join(dir, 'sites', 'rioja.yaml'), '--out', out], { cwd: dir });
      assert.equal(r.code, 2, `exit code: ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, c.expect);
      if (c.forbid) assert.doesNotMatch(r.stderr + r.stdout, c.forbid, 'the message repeats a secret');
      assert.deepEqual(await readdir(out), ['rioja'], 'out/ gained or lost entries');
      assert.deepEqual(await readdir(path.join(out, 'rioja')), ['previous-release.txt']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('validate reports the same errors without building', async () => {
  const dir = await scratchProject('xsbuild-bad-');
  try {
    await edit('sites/rioja.yaml', (s) => s.replace('layers:', 'layerz:'))(dir);
    const r = await runCli(['validate', path.join(dir, 'sites', 'rioja.yaml')], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown key "layerz"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

