// The pull timer's path: while the server is not approved, each pull enrols first (over
// the network, or through the stick it pulls from) and goes on whatever the answer; the
// signed report goes to the fleet service with a growing sequence number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { publish } from '../../builder/updates/publish.js';
import { makeFixture, runAgent, pullArgs, serveRepo, statusOf } from '../updates/helpers.js';
import { runCli } from '../helpers/project.js';
import type { Envelope } from '../../agent/pull/sign.js';
import type { EnrolRequest } from '../../agent/fleet/wire.js';
import { approvalFor, fakeFleet, makeServerRoot, officeKey } from './helpers.js';

test('pull enrols first while not approved, never fails on it, and reports to the fleet service', async (t) => {
  const f = await makeFixture({ libBytes: 64 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const repo = await serveRepo(f.repo);
  t.after(() => repo.close());
  const office = officeKey();
  let approve = false;
  const fleet = await fakeFleet(t, (r) => (approve ? { status: 'approved', approval: approvalFor(r, office, 'operator') } : { status: 'pending' }));
  const root = makeServerRoot(t, { host: 'xs-p', fleetUrl: fleet.url, office, extra: { site: 'upd', updates: { url: repo.url, publicKey: f.pub } } });
  const state = path.join(root, 'state');
  const pull = () => runAgent(['pull', '--root', root, '--state', state]);

  const p1 = await pull();
  assert.equal(p1.code, 0, p1.stdout + p1.stderr);
  assert.equal(statusOf(state).result, 'applied', 'a pending enrolment does not stop the pull');
  assert.match(p1.stdout, /enrol pending/);
  const p2 = await pull();
  assert.equal(p2.code, 0, p2.stderr);
  assert.equal(fleet.requests.length, 2, 'each pull asks again while pending');
  assert.equal(fleet.requests[1]!.signed.version, 1, 'the request names the applied release');
  approve = true;
  assert.equal((await pull()).code, 0);
  assert.ok(existsSync(path.join(state, 'approval.json')));
  assert.equal((await pull()).code, 0);
  assert.equal(fleet.requests.length, 3, 'an approved server does not enrol again');
  const seqs = fleet.reports.map((r) => r.signed.seq);
  assert.deepEqual(seqs, [1, 2, 3, 4], 'one report per pull, sequence growing by one');
  assert.ok(fleet.reports.every((r) => typeof r.signed.agentVersion === 'string' && r.signed.host === 'xs-p'));

  // A fleet service that is down: the pull still succeeds and says why it could not enrol.
  const root2 = makeServerRoot(t, { host: 'xs-q', fleetUrl: 'http://127.0.0.1:9/fleet/', office, extra: { site: 'upd', updates: { url: repo.url, publicKey: f.pub } } });
  const down = await runAgent(['pull', '--root', root2, '--state', path.join(root2, 'state')]);
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.match(down.stderr, /enrol: POST http:\/\/127\.0\.0\.1:9\/fleet\/v1\/enrol: .*the pull goes on/);
});

test('pull from a stick writes the enrolment request onto it and picks up the approval', async (t) => {
  const f = await makeFixture({ libBytes: 64 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const stick = mkdtempSync(path.join(tmpdir(), 'xs-stick-'));
  t.after(() => rmSync(stick, { recursive: true, force: true }));
  assert.equal((await runCli(['bundle', site, '--repo', f.repo, '--to', stick])).code, 0);
  const office = officeKey();
  const root = makeServerRoot(t, { host: 'xs-s', fleetUrl: 'http://127.0.0.1:9/fleet/', office, token: true, extra: { site: 'upd' } });
  const state = path.join(root, 'state');
  const a = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const req = JSON.parse(readFileSync(path.join(stick, 'enrol/xs-s.json'), 'utf8')) as Envelope<EnrolRequest>;
  assert.equal(req.signed.host, 'xs-s');
  assert.ok(existsSync(path.join(stick, 'reports/xs-s.json')), 'the report goes onto the stick too');
  // The office imports the stick and exports the approval onto it.
  mkdirSync(path.join(stick, 'approvals'), { recursive: true });
  writeFileSync(path.join(stick, 'approvals/xs-s.json'), JSON.stringify(approvalFor(req.signed, office)));
  const b = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /enrol approved/);
  assert.ok(existsSync(path.join(state, 'approval.json')));
  assert.ok(!existsSync(path.join(root, 'etc/xs-agent/enrol-token')));
});
