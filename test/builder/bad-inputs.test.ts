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
    expect: /layers\/xs-agent\/layer\.yaml:9:12: layer cycle: xs-core → xs-agent → xs-core[\s\S]*remove one of these "requires"/,
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
  // Accepted before, but the image would be wrong or dangerous.
  { name: 'two machines with one hostname', edit: edit('sites/rioja.yaml', (s) => s.replace('hostname: escuela-102', 'hostname: escuela-101')), expect: /sites\/rioja\.yaml:22:15: machines\[1\]\.hostname: hostname "escuela-101" is already used by machines\[0\] \(.*sites\/rioja\.yaml:19:15\)/ },
  { name: 'a NIC role names another machine\'s NIC', edit: edit('sites/rioja.yaml', (s) => s.replace('lan: 52:54:00:12:35:02', 'lan: 52:54:00:12:34:01')), expect: /sites\/rioja\.yaml:23:42: machines\[1\]\.nics\.lan: 52:54:00:12:34:01 is already a NIC of machines\[0\] \(escuela-101\)/ },
  { name: 'bootif and the boot NIC\'s MAC for two roles', edit: edit('sites/rioja.yaml', (s) => s.replace('nics: { wan: bootif, lan: other }', 'nics: { wan: bootif, lan: 52:54:00:12:34:01 }')), expect: /machines\[0\]\.nics\.wan: role "wan" is "bootif", which is 52:54:00:12:34:01 [^\n]*but role "lan" names 52:54:00:12:34:01 too/ },
  { name: 'two roles on "other"', edit: edit('sites/rioja.yaml', (s) => s.replace('nics: { wan: bootif, lan: other }', 'nics: { wan: other, lan: other }')), expect: /machines\[0\]\.nics\.lan: only one role can be "other"/ },
  { name: 'library dest is the root', edit: edit('sites/rioja.yaml', (s) => s.replace('dest: /library/local', 'dest: /')), expect: /sites\/rioja\.yaml:29:11: library\[1\]\.dest: library destination \/ is the root directory/ },
  { name: 'library dest is a system tree', edit: edit('sites/rioja.yaml', (s) => s.replace('dest: /library/local', 'dest: /usr')), expect: /library\[1\]\.dest: library destination \/usr is a system directory of the target/ },
  { name: 'library dest inside another library', edit: edit('sites/rioja.yaml', (s) => s.replace('dest: /library/local', 'dest: /library/common/local')), expect: /library\[1\]\.dest: library destination \/library\/common\/local overlaps library\[0\]/ },
  { name: 'kernel argument xsbuild sets itself', edit: edit('sites/rioja.yaml', (s) => s.replace('timeout: 2', 'timeout: 2\n  extraArgs: [quiet, "inst.ks=http://10.0.0.1/ks.cfg"]')), expect: /sites\/rioja\.yaml:17:22: boot\.extraArgs\[1\]: kernel argument "inst\.ks=http:\/\/10\.0\.0\.1\/ks\.cfg" is set by xsbuild itself/ },
  { name: 'time zone that does not exist', edit: edit('sites/rioja.yaml', (s) => s.replace('America/Argentina/La_Rioja', 'America/La_Rioja')), expect: /sites\/rioja\.yaml:10:13: kickstart\.timezone: time zone "America\/La_Rioja" is not in [\s\S]*did you mean "America\/Argentina\/La_Rioja"/ },
  { name: 'keyboard the installer does not know', edit: edit('sites/rioja.yaml', (s) => s.replace('keyboard: latam', 'keyboard: latin')), expect: /sites\/rioja\.yaml:12:13: kickstart\.keyboard: keyboard "latin" is not an X layout or console keymap/ },
  { name: 'language glibc cannot build', edit: edit('sites/rioja.yaml', (s) => s.replace('lang: es_AR.UTF-8', 'lang: es_RA.UTF-8')), expect: /sites\/rioja\.yaml:11:9: kickstart\.lang: language "es_RA\.UTF-8" is not a locale/ },
  // Crashed before (exit 1, a stack trace).
  { name: 'layer file dest is /', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /')), expect: /layers\/web-filter\/layer\.yaml:14:11: files\[1\]\.dest: \/ is the root directory/ },
  { name: 'layer file dest ends in /', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /etc/squid/')), expect: /files\[1\]\.dest: \/etc\/squid\/ ends in "\/"[\s\S]*hint: name the file, e\.g\. \/etc\/squid\/blocklist\.txt/ },
  { name: 'layer file dest is a system directory', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /usr/lib')), expect: /files\[1\]\.dest: \/usr\/lib is a directory of the target system/ },
  { name: 'layer file over another layer\'s file as a directory', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /etc/motd/blocklist.txt')), expect: /files\[1\]\.dest: \/etc\/motd\/blocklist\.txt lies inside \/etc\/motd, which layer "xs-core" writes as a file/ },
  { name: 'layer media file over the kickstart', edit: edit('layers/xs-core/layer.yaml', (s) => s.replace('dest: /README-XS.txt', 'dest: /ks.cfg')), expect: /layers\/xs-core\/layer\.yaml:\d+:\d+: media\[0\]\.dest: \/ks\.cfg overlaps \/ks\.cfg on the install media/ },
  { name: 'layer src is a directory', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('src: files/blocklist.txt', 'src: files')), expect: /layers\/web-filter\/layer\.yaml:13:10: files\[1\]\.src: src "files" is a directory/ },
  { name: 'kickstart fragment is a directory', edit: edit('layers/web-filter/layer.yaml', (s) => s.replace('post: kickstart/post.ks.hbs', 'post: kickstart')), expect: /layers\/web-filter\/layer\.yaml:9:9: kickstart\.post: "kickstart" is a directory, not a template/ },
  { name: 'base ISO that does not exist (found by validate, before any build step)', edit: edit('sites/rioja.yaml', (s) => s.replace('base: demo', `base: { iso: nowhere.iso, sha256: "${'a'.repeat(64)}" }`)), expect: /sites\/rioja\.yaml:6:14: base\.iso: base ISO "nowhere\.iso" does not exist/ },
  { name: 'rpmDirs without RPMs (found by validate)', edit: edit('sites/rioja.yaml', (s) => s.replace('layers:', 'rpmDirs: [overlays]\nlayers:')), expect: /sites\/rioja\.yaml:8:11: rpmDirs\[0\]: .*overlays has no \.rpm files/ },
  {
    name: 'YAML aliases of aliases',
    edit: edit('sites/rioja.yaml', (s) => `${s}x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${[1, 2, 3, 4, 5].map((i) => `x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`).join('\n')}\n`),
    expect: /sites\/rioja\.yaml:\d+:\d+: too many aliases/,
  },
  // An answer without a place, or without the reason.
  { name: 'template syntax error: line and column', edit: write('layers/web-filter/kickstart/post.ks.hbs', '# filter\nsystemctl enable {{squid}\n'), expect: /layers\/web-filter\/kickstart\/post\.ks\.hbs:2:25: template syntax error: unexpected character, expected [^\n]*"}}"/ },
  { name: 'unquoted sha256 of digits', edit: all(write('base.iso', 'x\n'), edit('sites/rioja.yaml', (s) => s.replace('base: demo', `base: { iso: base.iso, sha256: ${'7'.repeat(64)} }`))), expect: /sites\/rioja\.yaml:6:\d+: base\.sha256: must be a string \(quote it: YAML reads 7{64} as a number\)[\s\S]*base read as \{iso, sha256\}/ },
];

/** Each case's first error line, as the build printed it: filled by the cases below. */
const firstErrors = new Map<string, string>();

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
      firstErrors.set(c.name, /^error: .*$/m.exec(r.stderr)?.[0] ?? '');
      if (c.forbid) assert.doesNotMatch(r.stderr + r.stdout, c.forbid, 'the message repeats a secret');
      assert.deepEqual(await readdir(out), ['rioja'], 'out/ gained or lost entries');
      assert.deepEqual(await readdir(path.join(out, 'rioja')), ['previous-release.txt']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

// Runs after the cases (node:test runs top-level tests in order): the table covers what
// it claims only if every input got an error of its own and the errors name many rules.
test('each broken input gets its own error, and at least 15 fields are covered', (t) => {
  const missing = cases.filter((c) => !firstErrors.get(c.name)).map((c) => c.name);
  assert.deepEqual(missing, [], 'cases that failed or printed no error line');
  const byLine = new Map<string, string[]>();
  for (const [name, line] of firstErrors) byLine.set(line, [...(byLine.get(line) ?? []), name]);
  const shared = [...byLine].filter(([, names]) => names.length > 1).map(([line, names]) => `${names.join(' / ')}: ${line}`);
  assert.deepEqual(shared, [], 'inputs that end in the same error test the same thing');
  // "error: file:line:col: field: problem" -> the field, indices folded: machines[1].mac -> machines[].mac
  const fields = new Set([...firstErrors.values()].map((l) => /^error: [^:]+(?::\d+:\d+)?: ([\w.[\]]+): /.exec(l)?.[1]?.replace(/\[\d+\]/g, '[]')).filter(Boolean));
  t.diagnostic(`${cases.length} inputs, ${fields.size} distinct fields`);
  assert.ok(fields.size >= 15, `${fields.size} distinct fields: ${[...fields].join(', ')}`);
});

test('validate finds what build used to find late: a missing base ISO, RPM dirs without RPMs', async () => {
  const dir = await scratchProject('xsbuild-bad-');
  try {
    await edit('sites/rioja.yaml', (s) => s.replace('base: demo', `base: { iso: nowhere.iso, sha256: "${'a'.repeat(64)}" }`).replace('layers:', 'rpmDirs: [overlays]\nlayers:'))(dir);
    const r = await runCli(['validate', path.join(dir, 'sites', 'rioja.yaml')], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /base\.iso: base ISO "nowhere\.iso" does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

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

