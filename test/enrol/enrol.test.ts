// xs-agent identity and enrol: keys, the signed request, the office's answers (approved,
// pending, forged, for other keys), the stick round trip, and that no private half or
// token appears in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { main } from '../../agent/cli.js';
import { canonical } from '../../agent/pull/canonical.js';
import { keyId, verifyBytes, type Envelope } from '../../agent/pull/sign.js';
import { StateDir } from '../../agent/pull/state.js';
import { signedReport } from '../../agent/pull/report.js';
import type { EnrolRequest } from '../../agent/fleet/wire.js';
import { runCli, MAC_A, MAC_B } from '../agent/fixtures.js';
import { approvalFor, fakeFleet, makeServerRoot, officeKey, MACHINE_ID, TOKEN } from './helpers.js';

function secretsOf(state: string): string[] {
  const key = JSON.parse(readFileSync(path.join(state, 'server-key.json'), 'utf8')) as { d: string };
  const age = readFileSync(path.join(state, 'seal-key.txt'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  return [key.d, age, age.toLowerCase()];
}

function assertNoSecret(texts: string[], secrets: string[]): void {
  for (const text of texts) for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 6)}...) appears in output`);
}

test('identity: both keys 0600, made once, only public halves printed', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'xs-id-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const a = await runCli(main, ['identity', '--state', state, '--json']);
  assert.equal(a.code, 0, a.err);
  const pub = JSON.parse(a.out) as { signingKey: string; sealKey: string; keyid: string; created: string[] };
  assert.deepEqual(pub.created.sort(), ['seal-key.txt', 'server-key.json']);
  assert.match(pub.sealKey, /^age1[0-9a-z]{58}$/);
  assert.equal(pub.keyid, keyId(pub.signingKey));
  for (const f of ['server-key.json', 'seal-key.txt']) assert.equal(statSync(path.join(state, f)).mode & 0o777, 0o600, f);
  const b = await runCli(main, ['identity', '--state', state]);
  assert.equal(b.code, 0);
  assert.match(b.out, new RegExp(pub.sealKey));
  assert.match(b.out, new RegExp(pub.signingKey.replace(/[+/]/g, '\\$&')));
  const again = await runCli(main, ['identity', '--state', state, '--json']);
  assert.deepEqual({ ...JSON.parse(again.out), created: [] }, { ...pub, created: [] }, 'a second run keeps the same keys');
  assertNoSecret([a.out, a.err, b.out, b.err, again.out], secretsOf(state));
  // Reports: signed by the same key, seq grows by one each time, agent version named.
  const st = new StateDir(state);
  const status = { at: '2026-12-01T00:00:00Z', source: 'x', result: 'up-to-date' as const, version: null, warnings: [], notes: [] };
  const r1 = await signedReport(st, 'xs-a', 'rioja', status);
  const r2 = await signedReport(st, 'xs-a', 'rioja', status);
  assert.equal(r1.signed.publicKey, pub.signingKey);
  assert.deepEqual([r1.signed.seq, r2.signed.seq], [1, 2]);
  assert.equal(typeof r2.signed.agentVersion, 'string');
  assert.ok(verifyBytes(Buffer.from(canonical(r2.signed)), r2.signatures[0]!.sig, pub.signingKey));
  assertNoSecret([JSON.stringify(r1), JSON.stringify(r2)], secretsOf(state));
});

test('identity: a damaged key file is an error naming the file, never overwritten', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'xs-id-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  writeFileSync(path.join(state, 'seal-key.txt'), 'not a key\n', { mode: 0o600 });
  const r = await runCli(main, ['identity', '--state', state]);
  assert.equal(r.code, 1);
  assert.match(r.err, /seal-key\.txt: expected one AGE-SECRET-KEY-1/);
  assert.equal(readFileSync(path.join(state, 'seal-key.txt'), 'utf8'), 'not a key\n');
});

test('enrol over HTTP: a signed request with token, approved at once, approval kept, token deleted', async (t) => {
  const office = officeKey();
  const fleet = await fakeFleet(t, (r) => ({ status: 'approved', approval: approvalFor(r, office) }));
  const root = makeServerRoot(t, { host: 'xs-a', fleetUrl: fleet.url, office, token: true });
  const state = path.join(root, 'state');
  const r = await runCli(main, ['enrol', '--root', root, '--state', state]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /enrol approved/);
  assert.equal(fleet.requests.length, 1);
  const req = fleet.requests[0]!.signed;
  assert.equal(req._type, 'xs-enrol');
  assert.equal(req.site, 'rioja');
  assert.equal(req.host, 'xs-a');
  assert.deepEqual(req.macs, [MAC_A, MAC_B].sort());
  assert.equal(req.machineId, MACHINE_ID);
  assert.equal(req.release, 'rioja-1');
  assert.equal(req.version, null);
  assert.equal(req.token, TOKEN);
  const pub = JSON.parse((await runCli(main, ['identity', '--state', state, '--json'])).out) as { signingKey: string; sealKey: string };
  assert.equal(req.signingKey, pub.signingKey);
  assert.equal(req.sealKey, pub.sealKey);
  const kept = JSON.parse(readFileSync(path.join(state, 'approval.json'), 'utf8')) as Envelope<{ host: string }>;
  assert.equal(kept.signed.host, 'xs-a');
  assert.ok(!existsSync(path.join(root, 'etc/xs-agent/enrol-token')), 'the spent token is deleted');
  const s = await runCli(main, ['status', '--root', root, '--state', state, '--json']);
  const doc = JSON.parse(s.out) as { enrolment: { state: string; approval: { by: string } } };
  assert.equal(doc.enrolment.state, 'approved');
  assert.equal(doc.enrolment.approval.by, 'token');
  const human = await runCli(main, ['status', '--root', root, '--state', state]);
  assert.match(human.out, /enrolment: approved/);
  const outputs = [r.out, r.err, s.out, human.out, readFileSync(path.join(state, 'enrol.json'), 'utf8'), readFileSync(path.join(state, 'approval.json'), 'utf8')];
  assertNoSecret([...outputs, ...fleet.bodies], secretsOf(state));
  assertNoSecret(outputs, [TOKEN]);
});

test('enrol over HTTP: pending exits 3 and keeps no approval; approved on a later try', async (t) => {
  const office = officeKey();
  let approve = false;
  const fleet = await fakeFleet(t, (r) => (approve ? { status: 'approved', approval: approvalFor(r, office, 'operator') } : { status: 'pending', message: 'waiting for an operator' }));
  const root = makeServerRoot(t, { host: 'xs-b', fleetUrl: fleet.url, office });
  const state = path.join(root, 'state');
  const r = await runCli(main, ['enrol', '--root', root, '--state', state, '--json']);
  assert.equal(r.code, 3, r.out + r.err);
  assert.equal((JSON.parse(r.out) as { status: string }).status, 'pending');
  assert.equal(fleet.requests[0]!.signed.token, undefined, 'no token file, no token');
  assert.ok(!existsSync(path.join(state, 'approval.json')));
  const s = JSON.parse((await runCli(main, ['status', '--root', root, '--state', state, '--json'])).out) as { enrolment: { state: string } };
  assert.equal(s.enrolment.state, 'pending');
  approve = true;
  const r2 = await runCli(main, ['enrol', '--root', root, '--state', state]);
  assert.equal(r2.code, 0, r2.err);
  assert.equal(fleet.requests[1]!.signed.signingKey, fleet.requests[0]!.signed.signingKey, 'the retry uses the same keys');
});

test('enrol over HTTP: a forged approval and an approval for other keys are refused, nothing kept', async (t) => {
  const office = officeKey();
  const mallory = officeKey();
  let mode: 'forged' | 'other-keys' | 'other-host' = 'forged';
  const other = { signingKey: officeKey().publicKey, sealKey: 'age1txf4lydfhmcg64kswl0v96k5xknx0acjca83pufj9d6q9jdhws9qkser9r' };
  const fleet = await fakeFleet(t, (r) => ({
    status: 'approved',
    approval: mode === 'forged' ? approvalFor(r, mallory) : mode === 'other-keys' ? approvalFor({ ...r, ...other }, office) : approvalFor({ ...r, host: 'xs-z' }, office),
  }));
  const root = makeServerRoot(t, { host: 'xs-c', fleetUrl: fleet.url, office, token: true });
  const state = path.join(root, 'state');
  const forged = await runCli(main, ['enrol', '--root', root, '--state', state]);
  assert.equal(forged.code, 2);
  assert.match(forged.err, /approval refused: not signed by the office key/);
  mode = 'other-keys';
  const otherKeys = await runCli(main, ['enrol', '--root', root, '--state', state]);
  assert.equal(otherKeys.code, 2);
  assert.match(otherKeys.err, /approves other keys than this server's/);
  mode = 'other-host';
  const otherHost = await runCli(main, ['enrol', '--root', root, '--state', state]);
  assert.equal(otherHost.code, 2);
  assert.match(otherHost.err, /for host "xs-z", this server is "xs-c"/);
  assert.ok(!existsSync(path.join(state, 'approval.json')), 'no approval kept');
  assert.ok(existsSync(path.join(root, 'etc/xs-agent/enrol-token')), 'the token stays until a real approval');
  const s = JSON.parse((await runCli(main, ['status', '--root', root, '--state', state, '--json'])).out) as { enrolment: { state: string } };
  assert.equal(s.enrolment.state, 'refused');
});

test('enrol: bad fleet config is exit 2 naming the field; no fleet service is exit 1', async (t) => {
  const office = officeKey();
  const root = makeServerRoot(t, { host: 'xs-d', fleetUrl: 'http://127.0.0.1:9/fleet', office });
  const bad = await runCli(main, ['enrol', '--root', root, '--state', path.join(root, 'state')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /config\.json: fleet\.url: .* ending in "\/"/);
  const root2 = makeServerRoot(t, { host: 'xs-d', fleetUrl: 'http://127.0.0.1:9/fleet/', office });
  const down = await runCli(main, ['enrol', '--root', root2, '--state', path.join(root2, 'state')]);
  assert.equal(down.code, 1, down.err);
  assert.match(down.err, /enrol failed: POST http:\/\/127\.0\.0\.1:9\/fleet\/v1\/enrol/);
});

test('enrol through a stick: request written, approval read back; a forged approval is refused', async (t) => {
  const office = officeKey();
  const root = makeServerRoot(t, { host: 'xs-e', fleetUrl: 'http://127.0.0.1:9/fleet/', office, token: true });
  const state = path.join(root, 'state');
  const stick = mkdtempSync(path.join(tmpdir(), 'xs-stick-'));
  t.after(() => rmSync(stick, { recursive: true, force: true }));
  const r = await runCli(main, ['enrol', '--root', root, '--state', state, '--stick', stick]);
  assert.equal(r.code, 3, r.out + r.err);
  const file = path.join(stick, 'enrol/xs-e.json');
  const env = JSON.parse(readFileSync(file, 'utf8')) as Envelope<EnrolRequest>;
  assert.equal(env.signed.host, 'xs-e');
  assert.equal(env.signed.token, TOKEN);
  assert.ok(verifyBytes(Buffer.from(canonical(env.signed)), env.signatures[0]!.sig, env.signed.signingKey), 'the request on the stick is signed by the server key');
  assertNoSecret([readFileSync(file, 'utf8'), r.out, r.err], secretsOf(state));
  // The office answers on the stick: first a forgery, then the real one.
  mkdirSync(path.join(stick, 'approvals'));
  writeFileSync(path.join(stick, 'approvals/xs-e.json'), JSON.stringify(approvalFor(env.signed, officeKey())));
  const forged = await runCli(main, ['enrol', '--root', root, '--state', state, '--stick', stick]);
  assert.equal(forged.code, 2);
  assert.match(forged.err, /approvals\/xs-e\.json: approval refused: not signed by the office key .*nothing was kept/);
  assert.ok(!existsSync(path.join(state, 'approval.json')));
  rmSync(file);
  const stale = await runCli(main, ['enrol', '--root', root, '--state', state, '--stick', stick]);
  assert.equal(stale.code, 2);
  assert.ok(existsSync(file), 'a refused approval on the stick does not stop the request from being written');
  writeFileSync(path.join(stick, 'approvals/xs-e.json'), JSON.stringify(approvalFor(env.signed, office, 'operator'), null, 2));
  const ok = await runCli(main, ['enrol', '--root', root, '--state', state, '--stick', stick, '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.equal((JSON.parse(ok.out) as { status: string; via: string }).via, 'stick');
  assert.ok(existsSync(path.join(state, 'approval.json')));
  assert.ok(!existsSync(path.join(root, 'etc/xs-agent/enrol-token')));
});

test('identity: agents starting at once agree on one key', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'xs-id-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const { loadIdentity } = await import('../../agent/fleet/identity.js');
  const ids = await Promise.all(Array.from({ length: 8 }, () => loadIdentity(state)));
  assert.equal(new Set(ids.map((i) => i.signing.publicKey)).size, 1);
  assert.equal(new Set(ids.map((i) => i.sealKey)).size, 1);
  assert.equal(ids.filter((i) => i.created.includes('seal-key.txt')).length, 1, 'exactly one of them made the seal key');
  assert.deepEqual(readdirSync(state).sort(), ['seal-key.txt', 'server-key.json'], 'no temp file left');
});
