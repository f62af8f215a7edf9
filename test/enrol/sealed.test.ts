// Sealed per-host files: two hosts in one bundle each get only their own (the other's
// blob is not even fetched), the ciphertext opens with Debian's `age` and the host's
// identity, and a tampered blob or one sealed to another host is refused with nothing
// applied and no content in any message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { makeFixture, runAgent, snapshot, pullArgs, statusOf } from '../updates/helpers.js';
import { runCli } from '../helpers/project.js';
import { loadIdentity } from '../../agent/fleet/identity.js';
import { chunkPath, type ReleaseDoc } from '../../agent/pull/format.js';
import { signDoc, type Envelope } from '../../agent/pull/sign.js';
import { loadSigningKey } from '../../builder/updates/keys.js';
import type { RecipientsFile } from '../../agent/fleet/wire.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const SECRET_A = 'lease for xs-a: 7f3c1e-activation-ALPHA\n';
const SECRET_B = 'lease for xs-b: 2b9d44-activation-BRAVO\n';
const SECRET_C = 'lease for xs-c: not approved yet\n';

function allText(dir: string): string {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { isFile(): boolean; name: string; parentPath: string }[])
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name)).toString('latin1'))
    .join('\n');
}

function requireAge(t: { skip: (m: string) => void }): boolean {
  if (spawnSync('age', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') assert.fail('the `age` command is missing: apt-get install age (Debian package "age", listed in .ci/apt-updates.txt)');
  t.skip('age not installed (apt-get install age)');
  return false;
}

test('sealed files: two hosts in one bundle, each opens only its own; tampered or re-sealed blobs are refused', async (t) => {
  const f = await makeFixture({ libBytes: 128 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  const work = tmp('xs-sealed-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const stateOf = (h: string) => path.join(work, `state-${h}`);
  const rootOf = (h: string) => {
    const r = path.join(work, `root-${h}`);
    mkdirSync(path.join(r, 'etc'), { recursive: true });
    writeFileSync(path.join(r, 'etc/hostname'), `${h}\n`);
    return r;
  };
  const idA = await loadIdentity(stateOf('xs-a'));
  const idB = await loadIdentity(stateOf('xs-b'));
  const recipients = (map: Record<string, typeof idA>): RecipientsFile => ({
    _type: 'xs-recipients', site: 'upd',
    hosts: Object.fromEntries(Object.entries(map).map(([h, id]) => [h, { sealKey: id.sealKey, signingKey: id.signing.publicKey }])),
  });
  const rcpt = path.join(work, 'recipients.json');
  writeFileSync(rcpt, JSON.stringify(recipients({ 'xs-a': idA, 'xs-b': idB })));
  const priv = path.join(work, 'private');
  for (const [h, text] of [['xs-a', SECRET_A], ['xs-b', SECRET_B], ['xs-c', SECRET_C]] as const) {
    mkdirSync(path.join(priv, h, 'etc/xs'), { recursive: true });
    writeFileSync(path.join(priv, h, 'etc/xs/lease.txt'), text);
  }
  writeFileSync(path.join(priv, 'xs-a', '.xs-private.yaml'), '/etc/xs/lease.txt: { mode: "0640", owner: root, group: "0" }\n');

  const pub = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt, '--json']);
  assert.equal(pub.code, 0, pub.stderr);
  const r1 = JSON.parse(pub.stdout) as { version: number; sealed: number; sealedSkipped: string[] };
  assert.equal(r1.sealed, 2);
  assert.deepEqual(r1.sealedSkipped, ['xs-c']);
  const again = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^unchanged: release 1/, 'unchanged private files keep their ciphertext: no new release');
  assert.match(again.stderr, /xs-c is not in the recipients file \(not approved yet\)/);
  const release = (JSON.parse(readFileSync(path.join(f.repo, 'release.json'), 'utf8')) as Envelope<ReleaseDoc>).signed;
  const entry = (h: string) => release.sealed!.find((s) => s.host === h)!;
  assert.deepEqual([entry('xs-a').mode, entry('xs-a').owner, entry('xs-a').group], ['0640', 'root', '0']);
  assert.deepEqual([entry('xs-b').mode, entry('xs-b').owner, entry('xs-b').group], ['0600', 'root', 'root'], 'default 0600 root:root');

  const stick = path.join(work, 'stick');
  const b = await runCli(['bundle', site, '--repo', f.repo, '--to', stick]);
  assert.equal(b.code, 0, b.stderr);
  for (const text of [allText(f.repo), allText(stick), pub.stdout, pub.stderr, again.stderr, b.stdout]) {
    for (const s of [SECRET_A, SECRET_B, SECRET_C]) assert.ok(!text.includes(s.trim()), 'no plaintext in the repository, the bundle or the output');
  }

  // Each host pulls from a copy of the stick that lacks the other host's blob: had the
  // agent asked for it, the pull would fail on the missing chunk.
  const without = (h: string) => {
    const dir = path.join(work, `stick-for-${h === 'xs-a' ? 'xs-b' : 'xs-a'}`);
    cpSync(stick, dir, { recursive: true });
    for (const [id] of entry(h).blob.chunks) rmSync(path.join(dir, chunkPath(id)));
    return dir;
  };
  for (const [h, mine, theirs, mode] of [['xs-a', SECRET_A, 'xs-b', 0o640], ['xs-b', SECRET_B, 'xs-a', 0o600]] as const) {
    const root = rootOf(h);
    const r = await runAgent(pullArgs(without(theirs), root, stateOf(h), f.pub));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(statusOf(stateOf(h)).result, 'applied');
    const file = path.join(root, 'etc/xs/lease.txt');
    assert.equal(readFileSync(file, 'utf8'), mine);
    assert.equal(statSync(file).mode & 0o777, mode);
    assert.equal(statSync(file).uid, 0);
    assert.ok(existsSync(path.join(root, 'etc/motd')), 'the rest of the release is applied with it');
    for (const text of [r.stdout, r.stderr, readFileSync(path.join(stateOf(h), 'status.json'), 'utf8')]) {
      assert.ok(!text.includes(mine.trim()) && !text.includes(SECRET_A.trim()) && !text.includes(SECRET_B.trim()), 'no sealed content in logs or status');
    }
  }

  // Debian's age opens the blob with the host's identity file.
  if (requireAge(t)) {
    const blob = path.join(work, 'blob-a.age');
    writeFileSync(blob, Buffer.concat(entry('xs-a').blob.chunks.map(([id]) => readFileSync(path.join(f.repo, chunkPath(id))))));
    const dec = spawnSync('age', ['-d', '-i', path.join(stateOf('xs-a'), 'seal-key.txt'), blob], { encoding: 'utf8' });
    assert.equal(dec.status, 0, dec.stderr);
    assert.equal(dec.stdout, SECRET_A);
    const wrong = spawnSync('age', ['-d', '-i', path.join(stateOf('xs-b'), 'seal-key.txt'), blob], { encoding: 'utf8' });
    assert.notEqual(wrong.status, 0, "xs-b's identity does not open xs-a's file");
  }

  // Release 2 changes xs-a's file; a fresh server xs-a (at release 0) gets a bundle with
  // one byte of that blob flipped: refused, nothing applied.
  writeFileSync(path.join(priv, 'xs-a', 'etc/xs/lease.txt'), SECRET_A + 'renewed\n');
  const p2 = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(p2.code, 0, p2.stderr);
  const rel2 = (JSON.parse(readFileSync(path.join(f.repo, 'release.json'), 'utf8')) as Envelope<ReleaseDoc>).signed;
  const a2 = rel2.sealed!.find((s) => s.host === 'xs-a')!;
  assert.notDeepEqual(a2.blob, entry('xs-a').blob);
  assert.deepEqual(rel2.sealed!.find((s) => s.host === 'xs-b')!.blob, entry('xs-b').blob, "xs-b's unchanged file keeps its ciphertext");
  const stick2 = path.join(work, 'stick2');
  assert.equal((await runCli(['bundle', site, '--repo', f.repo, '--to', stick2])).code, 0);
  const refusedPull = async (dir: string, why: RegExp) => {
    const root = rootOf('xs-a');
    const before = snapshot(root);
    const r = await runAgent(pullArgs(dir, root, stateOf('xs-a'), f.pub));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const st = statusOf(stateOf('xs-a'));
    assert.equal(st.result, 'refused');
    assert.match(st.error!, why);
    assert.match(st.error!, /\/etc\/xs\/lease\.txt/, 'the message names the path');
    assert.deepEqual(snapshot(root), before, 'nothing applied');
    assert.equal(st.version, 1);
    for (const text of [r.stdout, r.stderr, JSON.stringify(st)]) assert.ok(!text.includes('renewed') && !text.includes(SECRET_A.trim()), 'no content in the message');
  };
  const tampered = path.join(work, 'stick-tampered');
  cpSync(stick2, tampered, { recursive: true });
  const victim = path.join(tampered, chunkPath(a2.blob.chunks[0]![0]));
  const bytes = readFileSync(victim);
  bytes[bytes.length - 5] ^= 0x40;
  writeFileSync(victim, bytes);
  await refusedPull(tampered, /does not match its sha256/);

  // Sealed to another host's key (a recipients file with xs-b's key under xs-a's name).
  writeFileSync(rcpt, JSON.stringify(recipients({ 'xs-a': idB, 'xs-b': idB })));
  const p3 = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(p3.code, 0, p3.stderr);
  const stick3 = path.join(work, 'stick3');
  assert.equal((await runCli(['bundle', site, '--repo', f.repo, '--to', stick3])).code, 0);
  await refusedPull(stick3, /sealed to age1\S+, not to this server's seal key/);
  // The same without the recipient hint (re-signed by the publisher key): it does not decrypt.
  const relFile = path.join(stick3, 'release.json');
  const env = JSON.parse(readFileSync(relFile, 'utf8')) as Envelope<ReleaseDoc>;
  for (const s of env.signed.sealed!) delete s.recipient;
  const key = await loadSigningKey(f.key);
  writeFileSync(relFile, JSON.stringify(signDoc(env.signed, [key]), null, 1));
  await refusedPull(stick3, /does not decrypt with this server's seal key/);
});

test('publish --private: bad recipients file and bad .xs-private.yaml are exit 2 naming file and field', async (t) => {
  const f = await makeFixture({ libBytes: 64 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  const work = tmp('xs-sealed-bad-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const priv = path.join(work, 'private');
  mkdirSync(path.join(priv, 'xs-a/etc'), { recursive: true });
  writeFileSync(path.join(priv, 'xs-a/etc/a.txt'), 'a\n');
  const rcpt = path.join(work, 'r.json');
  writeFileSync(rcpt, JSON.stringify({ _type: 'xs-recipients', site: 'upd', hosts: { 'xs-a': { sealKey: 'age1nope', signingKey: 'x' } } }));
  const bad = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /r\.json: hosts\.xs-a\.sealKey: must be an age recipient/);
  const id = await loadIdentity(path.join(work, 'state'));
  writeFileSync(rcpt, JSON.stringify({ _type: 'xs-recipients', site: 'upd', hosts: { 'xs-a': { sealKey: id.sealKey, signingKey: id.signing.publicKey } } }));
  writeFileSync(path.join(priv, 'xs-a/.xs-private.yaml'), '/etc/b.txt: { mode: "0644" }\n');
  const meta = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(meta.code, 2);
  assert.match(meta.stderr, /\.xs-private\.yaml: \/etc\/b\.txt: \/etc\/b\.txt: no such file/);
  writeFileSync(path.join(priv, 'xs-a/.xs-private.yaml'), '/etc/a.txt: { mode: "644" }\n');
  const mode = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(mode.code, 2);
  assert.match(mode.stderr, /\.xs-private\.yaml:1:\d+/);
  writeFileSync(path.join(priv, 'xs-a/.xs-private.yaml'), '');
  writeFileSync(path.join(priv, 'xs-a/etc/motd'), 'private motd\n');
  const clash = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(clash.code, 2, clash.stderr);
  assert.match(clash.stderr, /xs-a\/etc\/motd: \/etc\/motd is also a layer or library file/);
  rmSync(path.join(priv, 'xs-a/etc/motd'));
  const alone = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--private DIR and --recipients FILE go together/);
});
