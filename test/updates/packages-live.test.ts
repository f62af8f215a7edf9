// A release's packages installed for real by the target's own package manager, from
// the repository the release ships: a Debian root (the agent VM test's cached
// mmdebstrap root) with the agent running live inside it (chroot, not --root), apt-get
// installing a .deb that only the release's repository has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';
import { buildAgent } from '../../agent/build.js';
import { publish } from '../../builder/updates/publish.js';
import { ensureRootTar } from '../vm/agent-vm.js';
import { makeFixture, siteYaml } from './helpers.js';
import { needs, rootOnly } from '../helpers/needs.js';

const AGENT_VM_CACHE = process.env.XS_AGENT_VM_CACHE ?? path.join(PROJECT_DIR, '.cache', 'agent-vm');

test('apt-get installs a package only the release ships, run by the agent live on a Debian root', async (t) => {
  if (!needs(t, rootOnly('chroot, mounts'))) return;
  const f = await makeFixture({ libBytes: 64 * 1024 });
  const work = mkdtempSync(path.join(tmpdir(), 'xs-pkg-live-'));
  t.after(() => f.cleanup());
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // A package nobody else has, in a flat repository (Packages at its top).
  const deb = path.join(work, 'deb');
  mkdirSync(path.join(deb, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(deb, 'usr/share/xs-hello'), { recursive: true });
  writeFileSync(path.join(deb, 'DEBIAN/control'), 'Package: xs-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: XS <xs@example.org>\nDescription: a package only the release ships\n');
  writeFileSync(path.join(deb, 'usr/share/xs-hello/hello.txt'), 'hola\n');
  const pkgs = path.join(work, 'pkgs');
  mkdirSync(pkgs);
  execFileSync('dpkg-deb', ['--build', deb, path.join(pkgs, 'xs-hello_1.0_all.deb')], { stdio: 'ignore' });
  writeFileSync(path.join(pkgs, 'Packages'), execFileSync('dpkg-scanpackages', ['-m', '.', '/dev/null'], { cwd: pkgs, stdio: ['ignore', 'pipe', 'ignore'] }));

  const layer = path.join(f.dir, 'layers', 'hello');
  mkdirSync(layer);
  writeFileSync(path.join(layer, 'layer.yaml'), 'name: hello\nversion: 1.0.0\npackages: [xs-hello]\n');
  writeFileSync(path.join(f.dir, 'sites', 'upd.yaml'), siteYaml(f.pub, ['hello']));
  await publish({ site: path.join(f.dir, 'sites', 'upd.yaml'), repo: f.repo, keyFile: f.key, packagesDir: pkgs });

  const root = path.join(work, 'root');
  mkdirSync(root);
  const { tar } = ensureRootTar(AGENT_VM_CACHE, (s) => console.log(`# ${s}`), 240_000);
  execFileSync('tar', ['-xf', tar, '-C', root]);
  await buildAgent({ out: path.join(root, 'usr/sbin/xs-agent') });
  cpSync(f.repo, path.join(root, 'srv/xs-repo'), { recursive: true });
  assert.throws(() => execFileSync('chroot', [root, 'dpkg-query', '-W', 'xs-hello'], { stdio: 'ignore' }), 'the package is there before the pull');

  const pull = `/usr/sbin/xs-agent pull --from /srv/xs-repo --state /var/lib/xs-agent --trust ${f.pub} --no-report --json`;
  const out = execFileSync('unshare', ['--mount', '--fork', 'sh', '-c', `mount -t proc proc ${root}/proc && mount --bind /dev ${root}/dev && chroot ${root} ${pull}`], { encoding: 'utf8', timeout: 120_000 });
  const status = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8')) as { result: string; notes: string[] };
  assert.equal(status.result, 'applied', out);
  assert.ok(status.notes.some((n) => n === 'packages installed: xs-hello'), JSON.stringify(status.notes));
  assert.match(execFileSync('chroot', [root, 'dpkg-query', '-W', '-f=${Status} ${Version}', 'xs-hello'], { encoding: 'utf8' }), /install ok installed 1\.0/);
  assert.equal(readFileSync(path.join(root, 'usr/share/xs-hello/hello.txt'), 'utf8'), 'hola\n');
});
