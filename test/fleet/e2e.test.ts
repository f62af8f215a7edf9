// `xsbuild fleet` end to end on 127.0.0.1, as a user runs it: tokens from the site's
// machine records, serve as a child process, simulated school servers enrolling and
// reporting, the attacks the issue lists, a stick import twice, export, recipients.
// Every response body and every line the service printed is checked for secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { countValid } from '../../agent/pull/sign.js';
import type { EnrolTokensFile, RecipientsFile } from '../../agent/fleet/wire.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { CLI, runCli } from '../helpers/project.js';
import { freePort } from '../helpers/net.js';
import { officeKey, post, privateText, SimServer, startServe, type RunningServe } from './helpers.js';
import type { SigningKey } from '../../builder/updates/keys.js';

let tmp: string;
let db: string;
let key: SigningKey;
let tokens: EnrolTokensFile;
let serve: RunningServe;
let port: number;
const bodies: string[] = [];
const outputs: string[] = [];
const secrets: string[] = [];
const servers: SimServer[] = [];

function sim(host: string, macs: string[]): SimServer {
  const s = new SimServer('rioja', host, macs);
  servers.push(s);
  secrets.push(privateText(s));
  return s;
}

async function send(p: string, body: unknown) {
  const r = await post(`${serve.url}${p}`, body);
  bodies.push(r.text);
  return r;
}

async function cli(args: string[]) {
  const r = await runCli(['fleet', ...args, '--db', db], { cwd: PROJECT_DIR });
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function startIt() {
  serve = await startServe(CLI, ['--db', db, '--listen', `127.0.0.1:${port}`, '--key', key.file]);
}
async function stopIt() {
  const code = await serve.stop();
  outputs.push(serve.output());
  assert.equal(code, 0, 'Ctrl-C stops the service with exit 0');
}

const b101 = '52:54:00:12:34:01';
const b102 = '52:54:00:12:34:02';
const b102lan = '52:54:00:12:35:02';

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-e2e-'));
  db = path.join(tmp, 'fleet-db');
  key = await officeKey(tmp);
  secrets.push((JSON.parse(await readFile(key.file, 'utf8')) as { d: string }).d);
  port = await freePort();
});
after(async () => {
  if (serve && serve.child.exitCode === null) await serve.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('fleet tokens: one token per machine record, file 0600, only sha256 in the database', async () => {
  const r = await cli(['tokens', 'sites/rioja.yaml', '--out', path.join(tmp, 'tokens.json'), '--expires', '2d']);
  assert.equal(r.code, 0, r.stderr);
  const st = await stat(path.join(tmp, 'tokens.json'));
  assert.equal(st.mode & 0o777, 0o600);
  tokens = JSON.parse(await readFile(path.join(tmp, 'tokens.json'), 'utf8'));
  assert.equal(tokens._type, 'xs-enrol-tokens');
  assert.deepEqual(Object.keys(tokens.hosts).sort(), ['escuela-101', 'escuela-102']);
  for (const t of Object.values(tokens.hosts)) {
    secrets.push(t.token);
    assert.ok(Date.parse(t.expires) > Date.now() + 86400_000);
  }
  assert.ok(!r.stdout.includes(tokens.hosts['escuela-101'].token), 'the command does not print a token');
  const bad = await cli(['tokens', 'rioja', '--out', path.join(tmp, 't2.json'), '--expires', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--expires/);
});

test('serve: a token enrolment is approved at once; the approval verifies with the office key', async () => {
  await startIt();
  const s = sim('escuela-101', [b101, '52:54:00:12:35:01']);
  const r = await send('v1/enrol', s.enrol(tokens.hosts['escuela-101'].token));
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'approved');
  assert.equal(countValid(r.json.approval, { [key.keyid]: key.publicKey }), 1);
  assert.equal(r.json.approval.signed.signingKey, s.publicKey);
  assert.equal(r.json.approval.signed.by, 'token');
  // Retried: the same approval.
  const again = await send('v1/enrol', s.enrol(tokens.hosts['escuela-101'].token));
  assert.deepEqual(again.json.approval, r.json.approval);
});

test('attacks on enrolment: spent token again (conflict), token for another MAC, bad signature', async () => {
  const thief = sim('escuela-101', [b101]);
  const c = await send('v1/enrol', thief.enrol(tokens.hosts['escuela-101'].token));
  assert.equal(c.status, 200);
  assert.equal(c.json.status, 'conflict');
  assert.equal(c.json.approval, undefined);

  const wrongMac = sim('escuela-102', ['52:54:00:ff:ff:ff']);
  const w = await send('v1/enrol', wrongMac.enrol(tokens.hosts['escuela-102'].token));
  assert.equal(w.json.status, 'rejected');

  const forger = sim('escuela-103', ['52:54:00:ff:ff:fe']);
  const env = forger.enrol();
  env.signed.release = 'tampered';
  const f = await send('v1/enrol', env);
  assert.equal(f.status, 403);
  const other = sim('escuela-104', ['52:54:00:ff:ff:fd']);
  const wrongSigner = { signed: other.enrol().signed, signatures: forger.enrol().signatures };
  assert.equal((await send('v1/enrol', wrongSigner)).status, 403);

  // The right machine (booted from its LAN NIC) still gets in with its unspent token.
  const legit = sim('escuela-102', [b102, b102lan].filter((m) => m === b102lan));
  const ok = await send('v1/enrol', legit.enrol(tokens.hosts['escuela-102'].token));
  assert.equal(ok.json.status, 'approved');

  const hosts = await fetch(`${serve.url}api/hosts?site=rioja`).then((r) => r.json());
  const byHost = Object.fromEntries(hosts.rows.map((h: { host: string }) => [h.host, h]));
  assert.equal(byHost['escuela-101'].signing_key, servers[0].publicKey, 'the pin stays with the first key');
  assert.equal(byHost['escuela-101'].conflict, true);
  assert.equal(byHost['escuela-103'], undefined);
  assert.equal(byHost['escuela-104'], undefined);
  const waiting = await fetch(`${serve.url}api/waiting`).then((r) => r.json());
  assert.ok(waiting.rows.some((w: { status: string; signing_key: string }) => w.status === 'conflict' && w.signing_key === thief.publicKey));
});

test('reports: trusted from the pinned key; another key, a replay and a repeat change nothing', async () => {
  const s = servers[0];
  const first = await send('v1/report', s.report({ result: 'failed', error: 'scripts: web-filter %post exited with 3', hint: 'see /var/log/xs-agent.log' }));
  assert.equal(first.status, 202);
  assert.equal(first.json.trust, 'trusted');
  const mallory = sim('escuela-101', [b101]);
  const forged = await send('v1/report', s.report({ result: 'applied', error: undefined }, mallory));
  assert.equal(forged.status, 202);
  assert.equal(forged.json.trust, 'untrusted');
  const replay = await send('v1/report', s.report({ seq: 1, result: 'applied' }));
  assert.equal(replay.json.trust, 'replay');
  const repeated = s.report({ result: 'failed', error: 'scripts: web-filter %post exited with 3' });
  assert.equal((await send('v1/report', repeated)).json.trust, 'trusted');
  const dup = await send('v1/report', repeated);
  assert.equal(dup.json.duplicate, true);

  const hosts = await fetch(`${serve.url}api/hosts?q=escuela-101`).then((r) => r.json());
  assert.equal(hosts.rows[0].last_result, 'failed');
  assert.equal(hosts.rows[0].last_seq, s.seq);
  assert.match(hosts.rows[0].last_error, /web-filter %post/);
  assert.equal(hosts.rows[0].last_channel, 'network');
});

test('bad input: malformed JSON, wrong types, huge bodies, wrong methods', async () => {
  const m = await send('v1/report', '{"signed": ');
  assert.equal(m.status, 400);
  assert.match(m.json.error, /not JSON/);
  const wrong = servers[0].report();
  (wrong.signed as unknown as Record<string, unknown>).version = 'three';
  const t = await send('v1/report', wrong);
  assert.equal(t.status, 400);
  assert.match(t.json.error, /signed\.version/);
  const big = await fetch(`${serve.url}v1/enrol`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(300 * 1024) }).catch((e: Error) => e);
  assert.ok(big instanceof Error || big.status === 413, 'a body over MAX_FLEET_DOC is refused');
  const get = await fetch(`${serve.url}v1/enrol`);
  assert.equal(get.status, 405);
  bodies.push(await get.text());
});

test('no token: pending; approved with the CLI; the agent retry then gets the approval', async () => {
  const s = sim('escuela-900', ['52:54:00:aa:00:01']);
  const p = await send('v1/enrol', s.enrol());
  assert.equal(p.json.status, 'pending');
  await stopIt();
  const busy = await startServe(CLI, ['--db', db, '--listen', `127.0.0.1:${port}`, '--key', key.file]);
  const second = await startServe(CLI, ['--db', path.join(tmp, 'other-db'), '--listen', `127.0.0.1:${port}`, '--key', key.file]).catch((e: Error) => e);
  assert.ok(second instanceof Error && /exited with 1/.test(second.message) && /already in use/.test(second.message), 'a busy port exits 1');
  const locked = await cli(['list']);
  assert.equal(locked.code, 1, 'the embedded database is one process at a time');
  assert.match(locked.stderr, /in use by another process/);
  await busy.stop();
  outputs.push(busy.output());

  const noKey = await cli(['approve', 'rioja/escuela-900']);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /--key/);
  const list1 = await cli(['list', '--state', 'pending', '--json']);
  assert.equal(list1.code, 0, list1.stderr);
  assert.deepEqual(JSON.parse(list1.stdout).hosts.map((h: { host: string }) => h.host), ['escuela-900']);
  const a = await cli(['approve', 'rioja/escuela-900', '--key', key.file]);
  assert.equal(a.code, 0, a.stderr);
  const none = await cli(['approve', 'rioja/escuela-900', '--key', key.file]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no enrolment waiting/);
  const list2 = JSON.parse((await cli(['list', '--site', 'rioja', '--json'])).stdout);
  assert.equal(list2.hosts.find((h: { host: string }) => h.host === 'escuela-900').state, 'approved');

  await startIt();
  const retry = await send('v1/enrol', s.enrol());
  assert.equal(retry.json.status, 'approved');
  assert.equal(retry.json.approval.signed.by, 'operator');
  assert.equal(countValid(retry.json.approval, { [key.keyid]: key.publicKey }), 1);
  assert.equal((await send('v1/report', s.report())).json.trust, 'trusted');
  await stopIt();
});

test('stick: import twice adds nothing; bad files are named and refused; export and recipients', async () => {
  const stick = path.join(tmp, 'stick');
  await mkdir(path.join(stick, 'enrol'), { recursive: true });
  await mkdir(path.join(stick, 'reports'), { recursive: true });
  const far = sim('escuela-300', ['52:54:00:bb:00:01']);
  await writeFile(path.join(stick, 'enrol', 'escuela-300.json'), JSON.stringify(far.enrol(), null, 1));
  await writeFile(path.join(stick, 'reports', 'escuela-101.json'), JSON.stringify(servers[0].report({ result: 'up-to-date' }), null, 1));
  const first = await cli(['import', stick, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const outcomes = JSON.parse(first.stdout).imported.map((i: { outcome: string }) => i.outcome);
  assert.deepEqual(outcomes, ['pending', 'trusted']);
  const second = await cli(['import', stick, '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout).imported.map((i: { outcome: string }) => i.outcome), ['already imported', 'already imported']);
  const list = JSON.parse((await cli(['list', '--json'])).stdout);
  const h101 = list.hosts.find((h: { host: string }) => h.host === 'escuela-101');
  assert.equal(h101.last_channel, 'stick');
  assert.ok(h101.last_import_at);
  assert.equal(list.waiting.filter((w: { host: string }) => w.host === 'escuela-300').length, 1, 'imported once');

  await symlink('/etc/passwd', path.join(stick, 'reports', 'evil.json'));
  await writeFile(path.join(stick, 'reports', '../reports/Bad Name.json'), '{}');
  await writeFile(path.join(stick, 'enrol', 'garbage.json'), '{"signed": 1');
  const bad = await cli(['import', stick]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /evil\.json.*symbolic link/);
  assert.match(bad.stderr, /Bad Name\.json/);
  assert.match(bad.stderr, /garbage\.json.*not JSON/);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');

  const exp = await cli(['export', 'rioja', '--to', stick]);
  assert.equal(exp.code, 0, exp.stderr);
  const approval = JSON.parse(await readFile(path.join(stick, 'approvals', 'escuela-101.json'), 'utf8'));
  assert.equal(countValid(approval, { [key.keyid]: key.publicKey }), 1);
  const rec = await cli(['recipients', 'rioja', '--out', path.join(tmp, 'recipients.json')]);
  assert.equal(rec.code, 0, rec.stderr);
  const rf: RecipientsFile = JSON.parse(await readFile(path.join(tmp, 'recipients.json'), 'utf8'));
  assert.deepEqual(Object.keys(rf.hosts).sort(), ['escuela-101', 'escuela-102', 'escuela-900']);
  assert.equal(rf.hosts['escuela-101'].sealKey, servers[0].sealKey);
});

test('no token, no private key appears in any response or log line', () => {
  const everything = [...bodies, ...outputs].join('\n');
  assert.ok(everything.length > 1000);
  for (const s of secrets) assert.ok(!everything.includes(s), 'a secret leaked into a response or the log');
  assert.match(everything, /enrol rioja\/escuela-101 from 127\.0\.0\.1: approved/, 'the log says what happened');
});
