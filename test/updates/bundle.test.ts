// Offline updates through a bundle directory (a USB stick): full and --since bundles,
// FAT-friendly names, the signed report written back onto the stick, and a truncated
// bundle refused with nothing applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { publish } from '../../builder/updates/publish.js';
import { makeFixture, runAgent, snapshot, pullArgs, statusOf, patchFile } from './helpers.js';
import { runCli } from '../helpers/project.js';
import { countValid, keyId } from '../../agent/pull/sign.js';
import { writeFileSync } from 'node:fs';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));
const du = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((s, e) => s + statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);

test('bundles: full, --since, report on the stick, truncated bundle refused', async (t) => {
  const f = await makeFixture({ libBytes: 2 * 1024 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const stick = tmp('xs-stick-');
  t.after(() => rmSync(stick, { recursive: true, force: true }));
  const full = await runCli(['bundle', site, '--repo', f.repo, '--to', stick]);
  assert.equal(full.code, 0, full.stderr);
  for (const e of readdirSync(stick, { recursive: true }) as string[]) {
    const base = path.basename(e);
    assert.match(e, /^[a-z0-9._/-]+$/, `FAT-friendly, lower-case name: ${e}`);
    assert.ok(base.length <= 255 && !e.includes(':'));
  }
  const root = tmp('xs-root-');
  const state = tmp('xs-state-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const a = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(a.code, 0, a.stdout + a.stderr);
  assert.equal(statusOf(state).version, 1);

  // Release 2 changes 1% of the library; the school is at release 1.
  patchFile(path.join(f.lib, 'videos/big.bin'), 1_000_000, 20_000, 'r2');
  writeFileSync(path.join(f.dir, 'layers/xs-core/files/motd'), 'bundle release 2\n');
  await publish({ site, repo: f.repo, keyFile: f.key });
  const fullSize = du(stick);
  const since = await runCli(['bundle', site, '--repo', f.repo, '--to', stick, '--since', '1', '--json']);
  assert.equal(since.code, 0, since.stderr);
  const info = JSON.parse(since.stdout);
  assert.equal(info.version, 2);
  assert.ok(info.bytes < 300 * 1024, `a --since bundle holds only the change: ${info.bytes} bytes`);
  assert.ok(du(stick) < fullSize / 4, 'chunks of the earlier full bundle were removed from the stick');

  // Truncated: one chunk missing (stick pulled out while copying). Refused, nothing applied.
  const before = snapshot(root);
  // A delta of the changed library file (the server has its base, so the bundle carries
  // the delta, not the chunk): scripts of unchanged layers are on the stick too but not
  // needed by this server, so they would not do.
  assert.ok(info.deltas >= 1, `the edit travels as a delta: ${since.stdout}`);
  const deltas = (readdirSync(path.join(stick, 'deltas'), { recursive: true }) as string[]).filter((x) => x.endsWith('.dlt'));
  deltas.sort((x, y) => statSync(path.join(stick, 'deltas', y)).size - statSync(path.join(stick, 'deltas', x)).size);
  const victim = path.join(stick, 'deltas', deltas[0]!);
  const saved = readFileSync(victim);
  unlinkSync(victim);
  const bad = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(statusOf(state).error ?? '', /chunk missing from the bundle/);
  assert.deepEqual(snapshot(root), before);
  assert.equal(statusOf(state).version, 1);
  writeFileSync(victim, saved.subarray(0, saved.length >> 1));
  const half = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(half.code, 2);
  assert.deepEqual(snapshot(root), before);
  writeFileSync(victim, saved);

  const b = await runAgent(pullArgs(stick, root, state, f.pub));
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.equal(statusOf(state).version, 2);
  assert.equal(readFileSync(path.join(root, 'library/common/videos/big.bin')).equals(readFileSync(path.join(f.lib, 'videos/big.bin'))), true);

  // The signed report on the stick: verifiable with the key it carries; no private key.
  const reports = readdirSync(path.join(stick, 'reports'));
  assert.equal(reports.length, 1);
  const rep = JSON.parse(readFileSync(path.join(stick, 'reports', reports[0]!), 'utf8'));
  assert.equal(rep.signed.result, 'applied');
  assert.equal(rep.signed.version, 2);
  assert.equal(countValid(rep, { [keyId(rep.signed.publicKey)]: rep.signed.publicKey }), 1);
  rep.signed.version = 3;
  assert.equal(countValid(rep, { [keyId(rep.signed.publicKey)]: rep.signed.publicKey }), 0, 'an edited report no longer verifies');
  const serverKey = JSON.parse(readFileSync(path.join(state, 'server-key.json'), 'utf8'));
  assert.equal(statSync(path.join(state, 'server-key.json')).mode & 0o777, 0o600);
  assert.ok(!readFileSync(path.join(stick, 'reports', reports[0]!), 'utf8').includes(serverKey.d));
});
