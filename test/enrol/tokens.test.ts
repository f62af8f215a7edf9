// build --enrol-tokens: a machine's token lands in its own netboot kickstart (whose
// %post writes /etc/xs-agent/enrol-token 0600) and nowhere else: not the default
// kickstart, not the ISO, not the manifests, not the build output. Everything else is
// byte-identical to a build without the flag. A bad tokens file is exit 2 naming the
// file and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/project.js';

const TOKEN_101 = 'Xs7tOkEn-101-a8f3c9d2e1b0f4a7c6d5e4f3';
const TOKEN_102 = 'Xs7tOkEn-102-0b1c2d3e4f5a6b7c8d9e0f1a';

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if ((await stat(path.join(dir, r))).isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out;
}

test('enrolment tokens: only in their machine\'s netboot kickstart; the rest is byte-identical', async (t) => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xs-tokens-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const tokens = path.join(tmp, 'tokens.json');
  const hosts = { 'escuela-101': { token: TOKEN_101, expires: '2099-01-01T00:00:00Z' } };
  await writeFile(tokens, JSON.stringify({ _type: 'xs-enrol-tokens', site: 'rioja', hosts }), { mode: 0o600 });
  const plain = await runCli(['build', 'rioja', '--out', path.join(tmp, 'plain')]);
  assert.equal(plain.code, 0, plain.stderr);
  const withTok = await runCli(['build', 'rioja', '--out', path.join(tmp, 'tok'), '--enrol-tokens', tokens, '--json']);
  assert.equal(withTok.code, 0, withTok.stderr);
  for (const text of [withTok.stdout, withTok.stderr]) assert.ok(!text.includes(TOKEN_101), 'the token is not in the build output');

  const a = path.join(tmp, 'plain', 'rioja');
  const b = path.join(tmp, 'tok', 'rioja');
  const files = await listFiles(b);
  assert.deepEqual(files, await listFiles(a));
  const carrying: string[] = [];
  const differing: string[] = [];
  for (const f of files) {
    const [x, y] = [await readFile(path.join(a, f)), await readFile(path.join(b, f))];
    if (y.includes(TOKEN_101)) carrying.push(f);
    if (!x.equals(y)) differing.push(f);
  }
  const ks101 = 'netboot/ks/52-54-00-12-34-01.cfg';
  assert.deepEqual(carrying, [ks101], 'the token is in escuela-101\'s kickstart and in no other file (ISO, manifests, default kickstart, etherboot)');
  // The kickstart differs, and so does the netboot manifest that lists its sha256; nothing else.
  assert.deepEqual(differing.sort(), [ks101, 'netboot/netboot.json'].sort());
  const ks = await readFile(path.join(b, ks101), 'utf8');
  assert.match(ks, new RegExp(`printf '%s\\\\n' '${TOKEN_101}' > /etc/xs-agent/enrol-token\\.part`));
  assert.match(ks, /chmod 0600 \/etc\/xs-agent\/enrol-token/);
  assert.match(ks, /\/usr\/sbin\/xs-agent identity/);
  const def = await readFile(path.join(b, 'netboot/ks/default.cfg'), 'utf8');
  assert.doesNotMatch(def, /enrol-token/, 'the default kickstart writes no token');
  assert.doesNotMatch(await readFile(path.join(b, 'netboot/ks/52-54-00-12-34-02.cfg'), 'utf8'), /enrol-token/, 'a machine without a token gets none');
});

test('enrolment tokens: a bad file is exit 2 naming the file and field', async (t) => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xs-tokens-bad-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const file = path.join(tmp, 'tokens.json');
  const cases: [unknown, RegExp][] = [
    [{ _type: 'xs-enrol-tokens', site: 'paraguay', hosts: {} }, /tokens\.json: site: is "paraguay", building site "rioja"/],
    [{ _type: 'xs-enrol-tokens', site: 'rioja', hosts: { 'escuela-999': { token: TOKEN_102, expires: '2099-01-01T00:00:00Z' } } }, /hosts\.escuela-999: "escuela-999" is not a machine record/],
    [{ _type: 'xs-enrol-tokens', site: 'rioja', hosts: { 'escuela-102': { token: "a'b", expires: '2099-01-01T00:00:00Z' } } }, /hosts\.escuela-102\.token: must be 16 to 256 characters/],
    [{ _type: 'xs-enrol-tokens', site: 'rioja', hosts: { 'escuela-102': { token: TOKEN_102, expires: '2020-01-01T00:00:00Z' } } }, /hosts\.escuela-102\.expires: the token expired/],
    [{ _type: 'nope' }, /tokens\.json: _type: must be "xs-enrol-tokens"/],
  ];
  for (const [doc, want] of cases) {
    await writeFile(file, JSON.stringify(doc));
    const r = await runCli(['build', 'rioja', '--out', path.join(tmp, 'out'), '--enrol-tokens', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, want);
    assert.ok(!r.stderr.includes(TOKEN_102), 'no token in the message');
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});
