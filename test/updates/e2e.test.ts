// End to end on loopback: publish, pull over HTTP into a --root, publish a change, pull
// only the difference; unchanged publishes add nothing; replays, tampering, foreign keys
// and expired metadata are refused with nothing applied; a flaky server still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { publish } from '../../builder/updates/publish.js';
import { generateKeys } from '../../builder/updates/keys.js';
import { makeFixture, serveRepo, runAgent, snapshot, pullArgs, statusOf, patchFile, addExtraLayer, siteYaml, type Fixture } from './helpers.js';
import { releaseChunks, checkRelease, checkDeltas, chunkPath, deltaPath, deltasPath } from '../../agent/pull/format.js';
import { runCli } from '../helpers/project.js';

const site = (f: Fixture) => path.join(f.dir, 'sites', 'upd.yaml');
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const countFiles = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

function releaseDoc(repo: string, n?: number) {
  const file = n ? path.join(repo, 'releases', `${n}.release.json`) : path.join(repo, 'release.json');
  return checkRelease(JSON.parse(readFileSync(file, 'utf8')).signed, file);
}

function readDeltaEntries(repo: string, n: number) {
  const file = path.join(repo, deltasPath(n));
  return existsSync(file) ? checkDeltas(JSON.parse(readFileSync(file, 'utf8')).signed, file).deltas : [];
}

test('publish, pull over HTTP, publish a change, pull only the difference', async (t) => {
  const f = await makeFixture();
  t.after(() => f.cleanup());
  const srv = await serveRepo(f.repo);
  t.after(() => srv.close());
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));

  const r1 = await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  assert.equal(r1.version, 1);
  assert.ok(r1.newChunks > 50, `chunked: ${r1.newChunks}`);
  const repoFiles = countFiles(f.repo);
  const again = await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  assert.equal(again.changed, false, 'an unchanged site gets no new release');
  assert.equal(again.newChunks, 0);
  assert.equal(countFiles(f.repo), repoFiles, 'an unchanged publish writes nothing');
  // The private key is nowhere in the repository.
  const secret = JSON.parse(readFileSync(f.key, 'utf8')).d as string;
  for (const e of readdirSync(f.repo, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.endsWith('.chk')) assert.ok(!readFileSync(path.join(e.parentPath ?? e.path, e.name), 'utf8').includes(secret));
  }

  const a = await runAgent(pullArgs(srv.url, root, state, f.pub));
  assert.equal(a.code, 0, a.stdout + a.stderr);
  assert.equal(statusOf(state).result, 'applied');
  assert.equal(readFileSync(path.join(root, 'library/common/videos/big.bin')).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))), true);
  assert.equal(readFileSync(path.join(root, 'etc/motd'), 'utf8'), readFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'utf8'));
  assert.ok(existsSync(path.join(root, 'etc/squid/xs-blocklist.txt')));
  assert.match(statusOf(state).notes.join('\n'), /packages not installed|would run/, 'under --root packages are recorded, not run, and the status says so');
  const firstChunks = srv.chunkRequests().length;
  assert.equal(firstChunks, releaseChunks(releaseDoc(f.repo)).size, 'the first pull fetches each chunk once');

  // Release 2: a changed layer file, a new layer, a changed library file (64 KiB in the middle).
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'Welcome to XS, release 2\n');
  addExtraLayer(f);
  patchFile(path.join(f.lib, 'videos/big.bin'), 1_500_000, 2000, 'edit');
  const r2 = await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  assert.equal(r2.version, 2);
  const before1 = new Set(releaseChunks(releaseDoc(f.repo, 1)).keys());
  const rel2 = releaseDoc(f.repo, 2);
  // New content, plus the scripts of changed layers (a script is not a file on disk).
  const expected = new Set([...releaseChunks(rel2).keys()].filter((id) => !before1.has(id)));
  for (const l of rel2.layers) if (l.name !== 'web-filter' && l.script) l.script.chunks.forEach(([id]) => expected.add(id));
  srv.log.length = 0;
  const b = await runAgent(pullArgs(srv.url, root, state, f.pub));
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const fetched = srv.chunkRequests();
  // A chunk of the edited file may come as a delta against release 1's chunks instead.
  const deltaOf = new Map(readDeltaEntries(f.repo, 2).map((e) => [deltaPath(e.delta), e.chunk]));
  const deltas = srv.log.filter((l) => l.path.startsWith('deltas/') && l.status === 200);
  const viaDelta = new Set(deltas.map((l) => deltaOf.get(l.path)!));
  assert.ok([...viaDelta].every((id) => expected.has(id)), 'deltas only for chunks release 1 did not have');
  assert.deepEqual(new Set(fetched.map((l) => l.path)), new Set([...expected].filter((id) => !viaDelta.has(id)).map(chunkPath)), 'only the chunks release 1 did not have, less those rebuilt from deltas');
  const bytes = [...fetched, ...deltas].reduce((s, l) => s + l.bytes, 0);
  assert.ok(bytes < 600 * 1024, `fetched ${bytes} bytes for a 2000-byte edit and two small files`);
  assert.equal(readFileSync(path.join(root, 'library/common/videos/big.bin')).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))), true);
  assert.equal(readFileSync(path.join(root, 'etc/motd'), 'utf8'), 'Welcome to XS, release 2\n');
  assert.equal(readFileSync(path.join(root, 'etc/extra/extra.conf'), 'utf8'), 'extra=1\n');
  assert.equal(statusOf(state).version, 2);
  assert.ok((statusOf(state).chunks?.seeded ?? 0) > 5, 'unchanged chunks of the edited file come from the file on disk');

  // A third pull: nothing new, no chunk fetched.
  srv.log.length = 0;
  const c = await runAgent(pullArgs(srv.url, root, state, f.pub));
  assert.equal(c.code, 0);
  assert.equal(statusOf(state).result, 'up-to-date');
  assert.equal(srv.chunkRequests().length, 0);
  for (const name of readdirSync(path.join(root, 'library/common/videos'))) assert.ok(!name.includes('.xs-'), `leftover ${name}`);

  // Removing a layer removes the files it placed.
  writeFileSync(site(f), siteYaml(f.pub, ['xs-core', 'web-filter']));
  assert.equal((await publish({ site: site(f), repo: f.repo, keyFile: f.key })).version, 3);
  const d = await runAgent(pullArgs(srv.url, root, state, f.pub));
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.ok(!existsSync(path.join(root, 'etc/extra/extra.conf')));
});

test('replay, tampering, a foreign key and expired metadata are refused; nothing is applied', async (t) => {
  const f = await makeFixture({ libBytes: 600 * 1024 });
  t.after(() => f.cleanup());
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  const old = tmp('xs-old-repo-');
  t.after(() => rmSync(old, { recursive: true, force: true }));
  cpSync(f.repo, old, { recursive: true });
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'release 2\n');
  patchFile(path.join(f.lib, 'videos/big.bin'), 100_000, 100, 'r2');
  await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  const srv = await serveRepo(f.repo);
  t.after(() => srv.close());
  assert.equal((await runAgent(pullArgs(srv.url, root, state, f.pub))).code, 0);
  const good = snapshot(root);

  const refused = async (what: string, dir: string, re: RegExp) => {
    srv.dir = dir;
    const r = await runAgent(pullArgs(srv.url, root, state, f.pub));
    assert.equal(r.code, 2, `${what}: exit 2 (refused)\n${r.stdout}${r.stderr}`);
    const s = statusOf(state);
    assert.equal(s.result, 'refused', what);
    assert.match(s.error ?? '', re, what);
    assert.deepEqual(snapshot(root), good, `${what}: the root is untouched`);
    assert.equal(s.version, 2, `${what}: release 2 stays applied`);
  };
  await refused('replayed release 1', old, /older release is never applied|rollback/);

  // Release 3 exists, but one of its new chunks was modified on the server.
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'release 3\n');
  await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  const r3 = releaseDoc(f.repo, 3);
  const motd = r3.layers.find((l) => l.name === 'xs-core')!.files.find((x) => x.path === '/etc/motd')!;
  const bad = tmp('xs-bad-');
  t.after(() => rmSync(bad, { recursive: true, force: true }));
  cpSync(f.repo, bad, { recursive: true });
  const chunkFile = path.join(bad, chunkPath(motd.chunks[0]![0]));
  writeFileSync(chunkFile, 'release 4\n');
  await refused('modified chunk', bad, /does not match its sha256/);

  // The metadata edited after signing (a file's sha256 swapped).
  cpSync(f.repo, bad, { recursive: true });
  const env = JSON.parse(readFileSync(path.join(bad, 'release.json'), 'utf8'));
  env.signed.layers[0].packages.push('netcat');
  writeFileSync(path.join(bad, 'release.json'), JSON.stringify(env));
  await refused('modified metadata', bad, /bad signature/);

  // A release signed by another key (someone else's repository at this URL).
  const other = await generateKeys(tmp('xs-otherkey-'));
  const { signDoc } = await import('../../agent/pull/sign.js');
  const { loadSigningKey } = await import('../../builder/updates/keys.js');
  const ok = await loadSigningKey(other.privateFile);
  cpSync(f.repo, bad, { recursive: true });
  const forged = signDoc(JSON.parse(readFileSync(path.join(f.repo, 'release.json'), 'utf8')).signed, [ok]);
  writeFileSync(path.join(bad, 'release.json'), JSON.stringify(forged));
  await refused('signature by another key', bad, /not trust/);

  // Metadata past its expiry, from the network. (Published 40 days ago, valid 30.)
  const exp = tmp('xs-exp-');
  t.after(() => rmSync(exp, { recursive: true, force: true }));
  cpSync(f.repo, exp, { recursive: true });
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'release 4\n');
  const stale = await publish({ site: site(f), repo: exp, keyFile: f.key, now: new Date(Date.now() - 40 * 86400_000), expiresDays: 30 });
  assert.equal(stale.version, 4);
  await refused('expired metadata over the network', exp, /expired/);

  // The same expired bundle from a stick is accepted within the slack, with a warning.
  const s = await runAgent(pullArgs(exp, root, state, f.pub));
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.equal(statusOf(state).version, 4);
  assert.match(statusOf(state).warnings.join('\n'), /expired .* accepted from a stick within the 365-day slack/);
  // ...but not beyond it.
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'release 5\n');
  await publish({ site: site(f), repo: exp, keyFile: f.key, now: new Date(Date.now() - 40 * 86400_000), expiresDays: 30 });
  const late = await runAgent(pullArgs(exp, root, state, f.pub, ['--expiry-slack', '5']));
  assert.equal(late.code, 2);
  assert.match(statusOf(state).error ?? '', /more than the 5-day slack/);
});

test('a slow server that drops and truncates connections still completes', async (t) => {
  const f = await makeFixture({ libBytes: 1024 * 1024 });
  t.after(() => f.cleanup());
  await publish({ site: site(f), repo: f.repo, keyFile: f.key });
  const srv = await serveRepo(f.repo, { delayMs: 20, dropEvery: 4, truncateEvery: 7 });
  t.after(() => srv.close());
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const r = await runAgent(pullArgs(srv.url, root, state, f.pub, ['--timeout', '5', '--retries', '12']));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(srv.log.some((l) => l.status === 0), 'the server did drop connections');
  assert.match(r.stdout, /retry/);
  assert.equal(readFileSync(path.join(root, 'library/common/videos/big.bin')).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))), true);
});

test('publish refuses a key that is not the site key; keys rotate lets servers follow', async (t) => {
  const f = await makeFixture({ libBytes: 100 * 1024 });
  t.after(() => f.cleanup());
  const other = await generateKeys(path.join(f.dir, 'other'));
  const wrong = await runCli(['publish', site(f), '--repo', f.repo, '--key', other.privateFile]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /not the key servers trust \(updates\.publicKey\)/);
  assert.ok(!existsSync(path.join(f.repo, 'release.json')));

  const first = await runCli(['publish', site(f), '--repo', f.repo, '--key', f.key]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^release 1: /);
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  assert.equal((await runAgent(pullArgs(f.repo, root, state, f.pub))).code, 0);

  // Rotate to the new key; publish with it; the server (trusting the old key) follows.
  const rot = await runCli(['keys', 'rotate', '--repo', f.repo, '--key', f.key, '--new', other.privateFile]);
  assert.equal(rot.code, 0, rot.stderr);
  const stillOld = await runCli(['publish', site(f), '--repo', f.repo, '--key', f.key, '--refresh']);
  assert.equal(stillOld.code, 2, 'the retired key can no longer publish');
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'signed by the new key\n');
  const pubNew = await runCli(['publish', site(f), '--repo', f.repo, '--key', other.privateFile]);
  assert.equal(pubNew.code, 0, pubNew.stderr);
  const p = await runAgent(pullArgs(f.repo, root, state, f.pub));
  assert.equal(p.code, 0, p.stdout + p.stderr);
  assert.match(p.stdout, /root of trust is now version 2/);
  assert.equal(readFileSync(path.join(root, 'etc/motd'), 'utf8'), 'signed by the new key\n');

  // A fresh image that carries only the new key also finds its way in.
  const state2 = tmp('xs-state-');
  t.after(() => rmSync(state2, { recursive: true, force: true }));
  const fresh = await runAgent(pullArgs(f.repo, tmp('xs-root-'), state2, other.publicKey));
  assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);

  // A key file readable by others is refused without echoing it.
  const { chmodSync } = await import('node:fs');
  chmodSync(f.key, 0o644);
  const loose = await runCli(['publish', site(f), '--repo', f.repo, '--key', f.key]);
  assert.equal(loose.code, 2);
  assert.match(loose.stderr, /readable by others.*\n.*chmod 600/);
  assert.ok(!loose.stderr.includes(JSON.parse(readFileSync(f.key, 'utf8')).d));
});
