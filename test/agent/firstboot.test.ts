import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../agent/cli.js';
import { addNic, makeRoot, runCli, setCmdline, setSystemdVersion, touchTool, writeConfig, MAC_A, MAC_B, MAC_C } from './fixtures.js';

const base = { site: 'rioja', release: '2024.1' };

function listTree(root: string, rel = ''): string[] {
  const out: string[] = [];
  const dir = path.join(root, rel);
  for (const n of readdirSync(dir).sort()) {
    const r = path.join(rel, n);
    if (statSync(path.join(root, r)).isDirectory()) out.push(...listTree(root, r));
    else out.push(`${r}:${readFileSync(path.join(root, r), 'utf8')}`);
  }
  return out;
}

function twoNicRoot(t: Parameters<typeof makeRoot>[0]): string {
  const root = makeRoot(t);
  // The kernel named them the "wrong" way round: the role must follow the MAC.
  addNic(root, { name: 'eth0', mac: MAC_B });
  addNic(root, { name: 'eth1', mac: MAC_A });
  addNic(root, { name: 'lo', mac: '00:00:00:00:00:00', virtual: true });
  mkdirSync(path.join(root, 'etc/NetworkManager'), { recursive: true });
  writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tlocalhost.localdomain\n::1\tlocalhost ip6-localhost\n');
  return root;
}

test('firstboot pins roles, sets the host name, records status and stamps', async (t) => {
  const root = twoNicRoot(t);
  setCmdline(root, `BOOT_IMAGE=/vmlinuz BOOTIF=01-${MAC_B.replace(/:/g, '-')} ro`);
  writeConfig(root, { ...base, hostname: 'xs-{mac:wan}', domain: 'rioja.example.org', roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', bootif: true, ipv4: '172.18.96.1/19' }] });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out + r.err);
  const link = readFileSync(path.join(root, 'etc/systemd/network/10-xs-wan0.link'), 'utf8');
  assert.match(link, new RegExp(`PermanentMACAddress=${MAC_A}\\n`));
  assert.match(link, /Name=wan0\n/);
  assert.match(readFileSync(path.join(root, 'etc/systemd/network/10-xs-lan0.link'), 'utf8'), new RegExp(`PermanentMACAddress=${MAC_B}\\n[^]*Name=lan0`));
  const kf = path.join(root, 'etc/NetworkManager/system-connections/xs-lan0.nmconnection');
  assert.equal(statSync(kf).mode & 0o777, 0o600);
  assert.match(readFileSync(kf, 'utf8'), /mac-address=52:54:00:BB:00:02/);
  assert.equal(readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'xs-525400aa0001\n');
  const hosts = readFileSync(path.join(root, 'etc/hosts'), 'utf8');
  assert.match(hosts, /^127\.0\.1\.1\txs-525400aa0001\.rioja\.example\.org\txs-525400aa0001\t# xs-agent$/m);
  assert.doesNotMatch(hosts, /localhost\.localdomain/);
  assert.match(hosts, /^::1\tlocalhost ip6-localhost$/m);
  for (const s of ['nics', 'hostname', 'library']) assert.ok(existsSync(path.join(root, 'var/lib/xs-agent/stamps', s)), `stamp ${s}`);
  const st = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8'));
  assert.equal(st.result, 'ok');
  assert.equal(st.steps.nics.result, 'ok');
  assert.equal(st.steps.library.result, 'skipped');
  assert.ok(Date.parse(st.steps.nics.start) <= Date.parse(st.steps.nics.end));
  assert.match(r.out, /role wan -> wan0 = 52:54:00:aa:00:01 \(now eth1, explicit MAC\)/);
  assert.doesNotMatch(listTree(path.join(root, 'etc')).join('\n'), /Name=eth|interface-name=eth/);

  // A second run changes nothing, not even the files' times.
  const before = listTree(root);
  const mtime = statSync(path.join(root, 'etc/hostname')).mtimeMs;
  const r2 = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r2.code, 0);
  assert.match(r2.out, /nics: done on an earlier run, nothing to do/);
  assert.deepEqual(listTree(root), before);
  assert.equal(statSync(path.join(root, 'etc/hostname')).mtimeMs, mtime);
});

test('an ambiguous machine exits 2 with a status line and writes no network files', async (t) => {
  const root = twoNicRoot(t);
  addNic(root, { name: 'eth2', mac: MAC_C });
  writeConfig(root, { ...base, hostname: 'xs', roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  const r = await runCli(main, ['firstboot', '--root', root, '--steps', 'nics']);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.out, /nics: needs-fix - role lan: "other" is ambiguous, 2 wired NICs are left \(eth0=52:54:00:bb:00:02, eth2=52:54:00:cc:00:03\); give the role an explicit "mac"/);
  assert.equal(existsSync(path.join(root, 'etc/systemd')), false);
  assert.equal(readdirSync(path.join(root, 'etc/NetworkManager')).length, 0);
  assert.equal(existsSync(path.join(root, 'var/lib/xs-agent/stamps/nics')), false);
  const st = await runCli(main, ['status', '--root', root]);
  assert.equal(st.code, 2);
  assert.match(st.out, /nics: needs-fix .* - role lan: "other" is ambiguous/);
  assert.match(st.out, /hostname: pending/);

  // Fix the config: the re-run resumes and finishes.
  writeConfig(root, { ...base, hostname: 'xs', roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', mac: MAC_C }] });
  const r2 = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r2.code, 0, r2.out);
  assert.match(readFileSync(path.join(root, 'etc/systemd/network/10-xs-lan0.link'), 'utf8'), new RegExp(MAC_C));
  assert.equal((await runCli(main, ['status', '--root', root])).code, 0);
});

test('a missing MAC exits 2 and names it', async (t) => {
  const root = twoNicRoot(t);
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: '52:54:00:00:00:99' }, { name: 'lan', other: true }] });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 2);
  assert.match(r.out, /role wan: MAC 52:54:00:00:00:99 is not present on this machine \(NICs: eth0=52:54:00:bb:00:02, eth1=52:54:00:aa:00:01\)/);
  assert.equal(existsSync(path.join(root, 'etc/systemd')), false);
});

test('a bad config exits 2 naming file and field, and changes nothing', async (t) => {
  const root = twoNicRoot(t);
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: 'nope' }] });
  const before = listTree(root);
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`${root}/etc/xs-agent/config.json: roles\\[0\\]\\.mac: "nope" is not a MAC`));
  assert.deepEqual(listTree(root), before);
  const missing = await runCli(main, ['firstboot', '--root', root, '--config', '/etc/other.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /etc\/other.json: cannot read \(ENOENT\)/);
});

test('offline with an initramfs tool on the target: files written, step degraded, says why', async (t) => {
  const root = twoNicRoot(t);
  touchTool(root, '/usr/sbin/update-initramfs');
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  const r = await runCli(main, ['firstboot', '--root', root, '--steps', 'nics']);
  assert.equal(r.code, 2);
  assert.ok(existsSync(path.join(root, 'etc/systemd/network/10-xs-lan0.link')));
  const st = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8'));
  assert.equal(st.steps.nics.result, 'degraded');
  assert.match(st.steps.nics.notes.join('\n'), /initramfs not regenerated: --root .* run "\/usr\/sbin\/update-initramfs -u -k all" inside the target/);
  // Degraded still counts as done: the stamp is there.
  assert.ok(existsSync(path.join(root, 'var/lib/xs-agent/stamps/nics')));
});

test('legacy ifcfg targets get ifcfg files; stale files of our own are removed', async (t) => {
  const root = twoNicRoot(t);
  mkdirSync(path.join(root, 'etc/sysconfig/network-scripts'), { recursive: true });
  writeFileSync(path.join(root, 'etc/sysconfig/network-scripts/ifcfg-eth0'), 'DEVICE=eth0\n');
  mkdirSync(path.join(root, 'etc/systemd/network'), { recursive: true });
  writeFileSync(path.join(root, 'etc/systemd/network/10-xs-old0.link'), 'x');
  writeFileSync(path.join(root, 'etc/systemd/network/20-admin.link'), 'keep');
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out);
  assert.match(readFileSync(path.join(root, 'etc/sysconfig/network-scripts/ifcfg-wan0'), 'utf8'), /HWADDR=52:54:00:aa:00:01/);
  assert.equal(existsSync(path.join(root, 'etc/NetworkManager/system-connections/xs-wan0.nmconnection')), false);
  assert.equal(existsSync(path.join(root, 'etc/systemd/network/10-xs-old0.link')), false);
  assert.equal(readFileSync(path.join(root, 'etc/systemd/network/20-admin.link'), 'utf8'), 'keep');
  assert.equal(readFileSync(path.join(root, 'etc/sysconfig/network-scripts/ifcfg-eth0'), 'utf8'), 'DEVICE=eth0\n');
});

test('status before any run, usage errors', async (t) => {
  const root = makeRoot(t);
  const st = await runCli(main, ['status', '--root', root, '--json']);
  assert.equal(st.code, 1);
  assert.deepEqual(JSON.parse(st.out), { result: 'not-run', enrolment: { state: 'not-enrolled' } });
  assert.equal((await runCli(main, ['firstboot', '--bogus'])).code, 2);
  assert.match((await runCli(main, ['firstboot', '--root', root, '--steps', 'nics,coffee'])).err, /unknown step coffee/);
  assert.match((await runCli(main, ['--version'])).out, /^xs-agent \S+ \(commit \S+, node v\S+\)$/);
});

test('a lost status.json is rebuilt from the stamps', async (t) => {
  const root = twoNicRoot(t);
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  assert.equal((await runCli(main, ['firstboot', '--root', root])).code, 0);
  rmSync(path.join(root, 'var/lib/xs-agent/status.json'));
  assert.equal((await runCli(main, ['firstboot', '--root', root])).code, 0);
  const st = await runCli(main, ['status', '--root', root]);
  assert.equal(st.code, 0, st.out);
  assert.match(st.out, /nics: ok\n    note: done on an earlier run \(stamp present, no record\)/);
});

test('on systemd 239 (EL8) the .link files match MACAddress= and Driver=, with a note', async (t) => {
  const root = makeRoot(t);
  addNic(root, { name: 'eth0', mac: MAC_B, driver: 'igb' });
  addNic(root, { name: 'eth1', mac: MAC_A, driver: 'igb' });
  setSystemdVersion(root, 239);
  writeConfig(root, { ...base, roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }] });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out);
  assert.match(readFileSync(path.join(root, 'etc/systemd/network/10-xs-wan0.link'), 'utf8'), new RegExp(`\\[Match\\]\\nMACAddress=${MAC_A}\\nDriver=igb\\n`));
  const st = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8'));
  assert.match(st.steps.nics.notes.join(), /systemd 239 predates PermanentMACAddress=/);
});
