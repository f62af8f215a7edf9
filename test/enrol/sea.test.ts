// The built executable (Node SEA, age-encryption bundled in) makes the identity and
// enrols against a fleet service on loopback, with no node_modules beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildAgent } from '../../agent/build.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeFixture } from '../updates/helpers.js';
import { runCli } from '../helpers/project.js';
import { approvalFor, fakeFleet, makeServerRoot, officeKey, TOKEN } from './helpers.js';

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // An empty environment and a working directory without node_modules.
    const child = spawn(bin, args, { env: {}, cwd: path.dirname(bin), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the built executable runs identity and enrol, and opens a file sealed to it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xs-sea-enrol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const built = await buildAgent({ out: path.join(dir, 'bin', 'xs-agent') });
  t.diagnostic(`xs-agent built in ${(built.ms / 1000).toFixed(1)} s, ${(built.size / 1048576).toFixed(1)} MiB`);
  const office = officeKey();
  const fleet = await fakeFleet(t, (r) => (r.token === TOKEN ? { status: 'approved', approval: approvalFor(r, office) } : { status: 'pending' }));
  const root = makeServerRoot(t, { host: 'xs-sea', fleetUrl: fleet.url, office, token: true, extra: { site: 'upd' } });
  const state = path.join(root, 'var/lib/xs-agent/updates');

  const id = await run(built.path, ['identity', '--root', root, '--json']);
  assert.equal(id.code, 0, id.stderr);
  const pub = JSON.parse(id.stdout) as { signingKey: string; sealKey: string };
  assert.match(pub.sealKey, /^age1/);
  assert.equal(statSync(path.join(state, 'seal-key.txt')).mode & 0o777, 0o600);
  const secret = readFileSync(path.join(state, 'seal-key.txt'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  assert.ok(!id.stdout.includes(secret));

  const e = await run(built.path, ['enrol', '--root', root, '--json']);
  assert.equal(e.code, 0, e.stdout + e.stderr);
  assert.equal((JSON.parse(e.stdout) as { status: string }).status, 'approved');
  assert.equal(fleet.requests.length, 1);
  assert.equal(fleet.requests[0]!.signed.sealKey, pub.sealKey);
  assert.ok(existsSync(path.join(state, 'approval.json')));
  assert.ok(!existsSync(path.join(root, 'etc/xs-agent/enrol-token')));
  const st = await run(built.path, ['status', '--root', root]);
  assert.match(st.stdout, /enrolment: approved/);
  for (const text of [e.stdout, e.stderr, st.stdout, ...fleet.bodies]) assert.ok(!text.includes(secret));

  // The same executable opens a file sealed to it by publish (age decryption bundled in).
  const f = await makeFixture({ libBytes: 64 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  const priv = path.join(dir, 'private');
  mkdirSync(path.join(priv, 'xs-sea/etc/xs'), { recursive: true });
  writeFileSync(path.join(priv, 'xs-sea/etc/xs/delegation.txt'), 'delegation for xs-sea\n');
  const rcpt = path.join(dir, 'recipients.json');
  writeFileSync(rcpt, JSON.stringify({ _type: 'xs-recipients', site: 'upd', hosts: { 'xs-sea': { sealKey: pub.sealKey, signingKey: pub.signingKey } } }));
  const p = await runCli(['publish', site, '--repo', f.repo, '--key', f.key, '--private', priv, '--recipients', rcpt]);
  assert.equal(p.code, 0, p.stderr);
  const pull = await run(built.path, ['pull', '--from', f.repo, '--root', root, '--trust', f.pub, '--no-report']);
  assert.equal(pull.code, 0, pull.stdout + pull.stderr);
  assert.equal(readFileSync(path.join(root, 'etc/xs/delegation.txt'), 'utf8'), 'delegation for xs-sea\n');
  assert.equal(statSync(path.join(root, 'etc/xs/delegation.txt')).mode & 0o777, 0o600);
});
