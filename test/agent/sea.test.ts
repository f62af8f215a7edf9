// The built executable: reproducible, self-contained, and working with no node anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildAgent, repoRoot, type BuildResult } from '../../agent/build.js';
import { readLock } from '../../agent/runtime.js';
import { addNic, makeRoot, writeConfig, MAC_A, MAC_B } from './fixtures.js';
import { needs, rootOnly } from '../helpers/needs.js';

// One executable for the tests that run it, made before them (from the project's cache
// when the sources are unchanged); each test that builds does so into its own directories.
let dir: string;
let built: BuildResult;
before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'xs-agent-sea-'));
  built = await buildAgent({ out: path.join(dir, 'bin', 'xs-agent') });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the build is reproducible: two builds, same bytes', async (t) => {
  // Built twice for real: the cache would hand back the first build's bytes.
  const a = await buildAgent({ out: path.join(dir, 'a', 'xs-agent'), cache: false });
  const b = await buildAgent({ out: path.join(dir, 'b', 'xs-agent'), cache: false });
  t.diagnostic(`size ${(a.size / 1048576).toFixed(1)} MiB, build ${(a.ms / 1000).toFixed(1)} s / ${(b.ms / 1000).toFixed(1)} s`);
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.size, b.size);
  // Nothing half-written is left beside the output.
  assert.deepEqual(spawnSync('ls', ['-A', path.dirname(a.path)], { encoding: 'utf8' }).stdout.trim(), 'xs-agent');
  assert.equal(a.sha256, built.sha256, 'a build from the cache has the bytes of a real build');
});

test('the same sources are built once: a second build comes from the cache; a damaged entry is rebuilt', async (t) => {
  // A cache of its own: starts empty, and damaging it touches no other test's builds.
  const cacheDir = path.join(dir, 'cache');
  const first = await buildAgent({ out: path.join(dir, 'c1', 'xs-agent'), cacheDir });
  const again = await buildAgent({ out: path.join(dir, 'c2', 'xs-agent'), cacheDir });
  t.diagnostic(`first ${(first.ms / 1000).toFixed(1)} s, again ${(again.ms / 1000).toFixed(1)} s (cached)`);
  assert.deepEqual([first.cached, again.cached], [false, true]);
  assert.equal(again.sha256, first.sha256, 'the cached executable is the one a real build makes');
  const entries = readdirSync(cacheDir).filter((e) => existsSync(path.join(cacheDir, e, 'xs-agent')));
  assert.equal(entries.length, 1, 'one entry for one set of sources');
  writeFileSync(path.join(cacheDir, entries[0], 'xs-agent'), 'damaged');
  const rebuilt = await buildAgent({ out: path.join(dir, 'c3', 'xs-agent'), cacheDir });
  assert.equal(rebuilt.cached, false);
  assert.equal(rebuilt.sha256, first.sha256);
});

test('--version prints version and build commit; start-up time', (t) => {
  const runs: number[] = [];
  let out = '';
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(built.path, ['--version'], { encoding: 'utf8', env: {} });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.equal(r.status, 0, r.stderr);
    out = r.stdout;
  }
  // The runtime inside is the pinned one, whatever Node runs this test.
  assert.equal(out, `xs-agent ${built.version} (commit ${built.commit}, node v${built.runtime.version})\n`);
  assert.equal(built.runtime.version, readLock(repoRoot()).version);
  assert.match(built.commit, /^([0-9a-f]{12}|unknown)$/);
  runs.sort((x, y) => x - y);
  t.diagnostic(`xs-agent --version: median ${runs[2]!.toFixed(0)} ms`);
});

test('the binary runs with node hidden (mount namespace, no PATH)', (t) => {
  if (!needs(t, rootOnly('unshare --mount'))) return;
  const root = makeRoot(t);
  addNic(root, { name: 'eth0', mac: MAC_B });
  addNic(root, { name: 'eth1', mac: MAC_A });
  writeConfig(root, { site: 'rioja', release: '1', hostname: 'xs', roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  // Every node on the usual paths, plus the one running this test.
  const hide = new Set<string>([realpathSync(process.execPath)]);
  for (const d of ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    for (const n of ['node', 'nodejs']) if (existsSync(path.join(d, n))) hide.add(realpathSync(path.join(d, n)));
  }
  const empty = path.join(dir, 'empty');
  writeFileSync(empty, '', { mode: 0o000 });
  const script = [
    'set -e',
    ...[...hide].map((f) => `mount --bind ${empty} ${f}`),
    `if env -i /bin/sh -c 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; command -v node || command -v nodejs'; then echo "node is still visible"; exit 99; fi`,
    `if ${[...hide][0]} --version 2>/dev/null; then echo "node still runs"; exit 98; fi`,
    `env -i ${built.path} --version`,
    `env -i ${built.path} firstboot --root ${root}`,
    `env -i ${built.path} status --root ${root}`,
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^xs-agent \S+ \(commit \S+, node v\S+\)$/m);
  assert.match(r.stdout, /xs-agent: firstboot ok/);
  assert.match(r.stdout, /nics: ok/);
  assert.match(readFileSync(path.join(root, 'etc/systemd/network/10-xs-wan0.link'), 'utf8'), new RegExp(`PermanentMACAddress=${MAC_A}`));
  assert.match(readFileSync(path.join(root, 'etc/systemd/network/10-xs-lan0.link'), 'utf8'), new RegExp(`PermanentMACAddress=${MAC_B}`));
});
