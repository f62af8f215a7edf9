// The two sides together: the real xs-agent enrols with the real `xsbuild fleet serve`
// (an install-time token from `xsbuild fleet tokens`, and a server without one that a
// person approves through the page's API), reports a pull, carries an enrolment back on
// a stick that `fleet import` reads, and a spent token used again is a conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, runCli, scratchProject, removeProject } from '../helpers/project.js';
import { runAgent, makeFixture, serveRepo, siteYaml } from '../updates/helpers.js';
import { publish } from '../../builder/updates/publish.js';
import { makeServerRoot } from '../enrol/helpers.js';
import { MAC_A } from '../agent/fixtures.js';
import { freePort } from '../helpers/net.js';
import { officeKey, post, startServe } from './helpers.js';
import type { EnrolTokensFile } from '../../agent/fleet/wire.js';

interface HostJson { site: string; host: string; state: string; version: number | null; last_result: string | null; last_channel: string | null; agent_version: string | null }

test('xs-agent and xsbuild fleet: token enrolment, a person\'s approval, a report, a stick, a spent token', { timeout: 10 * 60_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xs-fleet-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const project = await scratchProject('xs-fleet-agent-project-');
  t.after(() => removeProject(project));
  const db = path.join(dir, 'db');
  const key = await officeKey(dir);
  const office = { publicKey: key.publicKey } as Parameters<typeof makeServerRoot>[1]['office'];

  // The office issues a token per machine record; escuela-101's record gets the agent root's MAC.
  const site = path.join(project, 'sites', 'rioja.yaml');
  writeFileSync(site, readFileSync(site, 'utf8').replace('mac: 52:54:00:12:34:01', `mac: ${MAC_A}`));
  const tokensFile = path.join(dir, 'tokens.json');
  const issued = await runCli(['fleet', 'tokens', site, '--out', tokensFile, '--db', db]);
  assert.equal(issued.code, 0, issued.stderr);
  const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as EnrolTokensFile;
  const token = tokens.hosts['escuela-101']!.token;

  const serve = await startServe(CLI, ['--db', db, '--listen', `127.0.0.1:${await freePort()}`, '--key', key.file]);
  t.after(() => serve.stop());
  const hosts = async (): Promise<HostJson[]> => ((await (await fetch(`${serve.url}api/hosts?site=rioja`)).json()) as { rows: HostJson[] }).rows;

  // 1. Installed from the room's server: the token proves it, approved at once.
  const rootA = makeServerRoot(t, { host: 'escuela-101', fleetUrl: serve.url, office });
  writeFileSync(path.join(rootA, 'etc/xs-agent/enrol-token'), `${token}\n`, { mode: 0o600 });
  const stateA = path.join(dir, 'state-a');
  const a = await runAgent(['enrol', '--root', rootA, '--state', stateA, '--json']);
  assert.equal(a.code, 0, `${a.stdout}${a.stderr}`);
  assert.equal(existsSync(path.join(rootA, 'etc/xs-agent/enrol-token')), false, 'a spent token is removed');
  assert.equal((await hosts()).find((h) => h.host === 'escuela-101')?.state, 'approved');

  // 2. Without a token: pending until a person approves it (the page's API), then approved.
  const rootB = makeServerRoot(t, { host: 'escuela-nueva', fleetUrl: serve.url, office });
  const stateB = path.join(dir, 'state-b');
  assert.equal((await runAgent(['enrol', '--root', rootB, '--state', stateB])).code, 3, 'pending');
  const origin = new URL(serve.url).origin;
  const ok = await post(`${serve.url}api/approve`, { site: 'rioja', host: 'escuela-nueva' }, { Origin: origin });
  assert.equal(ok.status, 200, ok.text);
  const b = await runAgent(['enrol', '--root', rootB, '--state', stateB]);
  assert.equal(b.code, 0, `${b.stdout}${b.stderr}`);
  const status = JSON.parse((await runAgent(['status', '--root', rootB, '--state', stateB, '--json'])).stdout) as { enrolment: { state: string } };
  assert.equal(status.enrolment.state, 'approved');

  // 3. A pull over HTTP reports to fleet.url with the pinned key: trusted, and the page shows it.
  const f = await makeFixture({ libBytes: 64 * 1024 });
  t.after(() => f.cleanup());
  const updSite = path.join(f.dir, 'sites', 'rioja.yaml');
  writeFileSync(updSite, siteYaml(f.pub, ['xs-core'], { site: 'rioja' }));
  await publish({ site: updSite, repo: f.repo, keyFile: f.key });
  const repoServer = await serveRepo(f.repo);
  t.after(() => repoServer.close());
  const pull = await runAgent(['pull', '--root', rootA, '--state', stateA, '--from', repoServer.url, '--trust', f.pub, '--json']);
  assert.equal(pull.code, 0, `${pull.stdout}${pull.stderr}`);
  const seen = (await hosts()).find((h) => h.host === 'escuela-101')!;
  assert.equal(seen.version, 1);
  assert.equal(seen.last_result, 'applied');
  assert.equal(seen.last_channel, 'network');
  assert.match(seen.agent_version ?? '', /^\d+\.\d+\.\d+/);

  // 4. The same token again, from another key: refused as a conflict for a person.
  const rootC = makeServerRoot(t, { host: 'escuela-101', fleetUrl: serve.url, office });
  writeFileSync(path.join(rootC, 'etc/xs-agent/enrol-token'), `${token}\n`, { mode: 0o600 });
  const c = await runAgent(['enrol', '--root', rootC, '--state', path.join(dir, 'state-c')]);
  assert.notEqual(c.code, 0, 'a spent token does not approve a second key');
  const waiting = (await (await fetch(`${serve.url}api/waiting?site=rioja`)).json()) as { rows: { host: string; status: string }[] };
  assert.ok(waiting.rows.some((w) => w.host === 'escuela-101' && w.status === 'conflict'), JSON.stringify(waiting.rows));

  // Nothing secret in what the service printed.
  assert.ok(!serve.output().includes(token), 'the token is never logged');
  const signingD = (JSON.parse(readFileSync(path.join(stateA, 'server-key.json'), 'utf8')) as { d: string }).d;
  assert.ok(!serve.output().includes(signingD), 'no private key in the log');

  // 5. A disconnected school: the enrolment goes onto the stick, the office imports it (twice: once).
  assert.equal(await serve.stop(), 0);
  const stick = path.join(dir, 'stick');
  const rootD = makeServerRoot(t, { host: 'escuela-lejana', fleetUrl: 'http://127.0.0.1:1/fleet/', office });
  const d = await runAgent(['enrol', '--root', rootD, '--state', path.join(dir, 'state-d'), '--stick', stick]);
  assert.equal(d.code, 3, `${d.stdout}${d.stderr}`);
  assert.ok(existsSync(path.join(stick, 'enrol', 'escuela-lejana.json')));
  const imp1 = await runCli(['fleet', 'import', stick, '--db', db, '--json']);
  assert.equal(imp1.code, 0, imp1.stderr);
  const imp2 = await runCli(['fleet', 'import', stick, '--db', db, '--json']);
  assert.equal(imp2.code, 0, imp2.stderr);
  assert.match(imp2.stdout, /already imported/);
  const list = JSON.parse((await runCli(['fleet', 'list', '--site', 'rioja', '--json', '--db', db])).stdout) as { hosts: HostJson[]; waiting: { host: string }[] };
  assert.equal(list.waiting.filter((w) => w.host === 'escuela-lejana').length, 1, 'imported once');
});
