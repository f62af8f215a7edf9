import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../agent/config.js';
import { planNetFiles, renderLink, renderNmKeyfile, renderIfcfg, stableUuid } from '../../agent/netfiles.js';
import type { Assignment } from '../../agent/roles.js';
import { MAC_A, MAC_B } from './fixtures.js';

const cfg = parseConfig(JSON.stringify({ site: 's', release: 'r', roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true, ipv4: '172.18.96.1/19' }] }), 'cfg');
const asg: Assignment[] = [
  { role: cfg.roles[0]!, nic: { name: 'ens4', mac: MAC_A, permanent: true, wireless: false, up: false } },
  { role: cfg.roles[1]!, nic: { name: 'ens3', mac: MAC_B, permanent: true, wireless: false, up: false } },
];

test('the .link file matches the permanent MAC, sorts before 99-default.link and names the role', () => {
  const f = renderLink(asg[0]!);
  assert.equal(f.path, '/etc/systemd/network/10-xs-wan0.link');
  assert.ok('10-xs-wan0.link' < '99-default.link');
  assert.match(f.content, /^\[Match\]\nPermanentMACAddress=52:54:00:aa:00:01\n\n\[Link\]\nName=wan0\n$/m);
  assert.equal(renderLink(asg[0]!, 252).content, f.content);
  assert.equal(renderLink(asg[0]!, 245).content, f.content);
  assert.equal(f.mode, 0o644);
});

test('a NIC without a permanent MAC, or systemd before v245, is matched on MACAddress= and Driver=', () => {
  const f = renderLink({ ...asg[0]!, nic: { ...asg[0]!.nic, permanent: false, driver: 'e1000e' } });
  assert.match(f.content, /^\[Match\]\nMACAddress=52:54:00:aa:00:01\nDriver=e1000e\n\n/m);
  assert.doesNotMatch(f.content, /Permanent/);
  // EL8's systemd 239 ignores PermanentMACAddress=, which would leave a match-all [Match].
  const el8 = renderLink({ ...asg[0]!, nic: { ...asg[0]!.nic, driver: 'igb' } }, 239);
  assert.match(el8.content, /^\[Match\]\nMACAddress=52:54:00:aa:00:01\nDriver=igb\n\n\[Link\]\nName=wan0\n$/m);
  // No driver known: the MAC alone.
  assert.match(renderLink(asg[0]!, 219).content, /^\[Match\]\nMACAddress=52:54:00:aa:00:01\n\n/m);
});

test('the NetworkManager keyfile is bound to the MAC, private, and stable', () => {
  const f = renderNmKeyfile(asg[1]!);
  assert.equal(f.path, '/etc/NetworkManager/system-connections/xs-lan0.nmconnection');
  assert.equal(f.mode, 0o600);
  assert.match(f.content, /^mac-address=52:54:00:BB:00:02$/m);
  assert.match(f.content, /^interface-name=lan0$/m);
  assert.match(f.content, /^method=manual\naddress1=172.18.96.1\/19$/m);
  assert.equal(renderNmKeyfile(asg[1]!).content, f.content);
  assert.match(stableUuid('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(stableUuid('nm', 'lan', MAC_A), stableUuid('nm', 'lan', MAC_B));
  assert.match(renderNmKeyfile(asg[0]!).content, /^\[ipv4\]\nmethod=auto$/m);
});

test('ifcfg binds with HWADDR', () => {
  const f = renderIfcfg(asg[1]!);
  assert.equal(f.path, '/etc/sysconfig/network-scripts/ifcfg-lan0');
  assert.match(f.content, /^DEVICE=lan0\n/m);
  assert.match(f.content, /^HWADDR=52:54:00:bb:00:02$/m);
  assert.match(f.content, /^BOOTPROTO=none\nIPADDR=172.18.96.1\nPREFIX=19$/m);
});

test('one connection profile kind per target', () => {
  const paths = (k: Omit<Parameters<typeof planNetFiles>[1], 'systemdVersion'>) => planNetFiles(asg, { ...k, systemdVersion: 252 }).map((f) => f.path.replace(/.*\//, ''));
  assert.deepEqual(paths({ networkManager: false, ifcfgDir: false, ifcfgInUse: false }), ['10-xs-wan0.link', '10-xs-lan0.link']);
  assert.deepEqual(paths({ networkManager: true, ifcfgDir: false, ifcfgInUse: false }), ['10-xs-wan0.link', 'xs-wan0.nmconnection', '10-xs-lan0.link', 'xs-lan0.nmconnection']);
  // EL9 has an empty network-scripts dir and uses keyfiles.
  assert.deepEqual(paths({ networkManager: true, ifcfgDir: true, ifcfgInUse: false }), ['10-xs-wan0.link', 'xs-wan0.nmconnection', '10-xs-lan0.link', 'xs-lan0.nmconnection']);
  assert.deepEqual(paths({ networkManager: true, ifcfgDir: true, ifcfgInUse: true }), ['10-xs-wan0.link', 'ifcfg-wan0', '10-xs-lan0.link', 'ifcfg-lan0']);
  assert.deepEqual(paths({ networkManager: false, ifcfgDir: true, ifcfgInUse: false }), ['10-xs-wan0.link', 'ifcfg-wan0', '10-xs-lan0.link', 'ifcfg-lan0']);
  for (const f of planNetFiles(asg, { networkManager: true, ifcfgDir: true, ifcfgInUse: true, systemdVersion: 252 })) assert.doesNotMatch(f.content, /\beth\d/);
});
