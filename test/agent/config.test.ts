import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../agent/config.js';

const F = '/etc/xs-agent/config.json';
const base = { site: 'rioja', release: '2024.1' };

function err(cfg: unknown): string {
  try {
    parseConfig(typeof cfg === 'string' ? cfg : JSON.stringify(cfg), F);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('config was accepted');
}

test('a full config parses with defaults filled in', () => {
  const c = parseConfig(
    JSON.stringify({
      ...base,
      hostname: 'SchoolServer',
      domain: 'rioja.example.org',
      roles: [
        { name: 'wan', mac: '52-54-00-AA-00-01' },
        { name: 'lan', bootif: true, ipv4: '172.18.96.1/19' },
        { name: 'lab', other: true, ifname: 'lab1', ipv4: '10.0.0.2/24 via 10.0.0.1' },
      ],
      library: { source: '/run/install/repo', dest: '/library' },
      report: { url: 'http://10.0.2.2:8080/status' },
      timeouts: { library: 60 },
    }),
    F,
  );
  assert.equal(c.hostname, 'schoolserver');
  assert.deepEqual(c.roles[0], { name: 'wan', ifname: 'wan0', match: { kind: 'mac', mac: '52:54:00:aa:00:01' }, ipv4: { method: 'dhcp' } });
  assert.deepEqual(c.roles[1]!.ipv4, { method: 'static', address: '172.18.96.1', prefix: 19 });
  assert.deepEqual(c.roles[2]!.ipv4, { method: 'static', address: '10.0.0.2', prefix: 24, gateway: '10.0.0.1' });
  assert.equal(c.roles[2]!.ifname, 'lab1');
  assert.deepEqual(c.library, { source: '/run/install/repo', manifest: 'manifest.json', prefix: '/library', dest: '/library' });
  assert.equal(c.timeouts.library, 60);
  assert.equal(c.timeouts.nics, 90);
});

test('errors name the file and the field', () => {
  assert.match(err({ ...base, roles: [{ name: 'wan', mac: '52:54:00:aa:00:01' }, { name: 'lan', mac: '52:54:zz' }] }), /^\/etc\/xs-agent\/config.json: roles\[1\]\.mac: "52:54:zz" is not a MAC/);
  assert.match(err({ release: 'x' }), /: site: is required/);
  assert.match(err({ ...base, roles: [{ name: 'wan' }] }), /roles\[0\]: give exactly one of/);
  assert.match(err({ ...base, roles: [{ name: 'wan', mac: '52:54:00:aa:00:01', other: true }] }), /found mac, other/);
  assert.match(err({ ...base, colour: 1 }), /colour: unknown field/);
  assert.match(err({ ...base, roles: [{ name: 'lan', bootif: true }, { name: 'wan', bootif: true }] }), /roles\[1\]\.bootif: only one role can be "bootif"/);
  assert.match(err({ ...base, roles: [{ name: 'lan', other: true }, { name: 'wan', other: true }] }), /roles\[1\]\.other/);
  assert.match(err({ ...base, roles: [{ name: 'wan', mac: '52:54:00:aa:00:01' }, { name: 'lan', mac: '52:54:00:AA:00:01' }] }), /roles\[1\]\.mac: .* already the MAC of roles\[0\]/);
  assert.match(err({ ...base, roles: [{ name: 'wan', other: true }, { name: 'wan', bootif: true }] }), /roles\[1\]\.name: role "wan" already defined/);
  assert.match(err({ ...base, hostname: 'bad_name' }), /hostname: "bad_name" is not a host name/);
  assert.match(err({ ...base, domain: '-x.org' }), /domain:/);
  assert.match(err({ ...base, roles: [{ name: 'wan', other: true, ipv4: '10.0.0.300/8' }] }), /roles\[0\]\.ipv4/);
  assert.match(err({ ...base, library: { source: '/m', dest: 'library' } }), /library\.dest: "library" must be an absolute path/);
  assert.match(err({ ...base, report: { url: 'ftp://x' } }), /report\.url/);
  assert.match(err({ ...base, timeouts: { nics: 0 } }), /timeouts\.nics: must be a positive number/);
});

test('role names and interface names never enter the ethN namespace', () => {
  assert.match(err({ ...base, roles: [{ name: 'eth', other: true }] }), /roles\[0\]\.ifname: "eth0" is in the kernel's ethN namespace/);
  assert.match(err({ ...base, roles: [{ name: 'wan', ifname: 'eth1', other: true }] }), /ethN namespace/);
  assert.match(err({ ...base, roles: [{ name: 'wan', ifname: 'a-very-long-interface', other: true }] }), /not an interface name/);
});

test('JSON syntax errors give line and column', () => {
  const m = err('{\n  "site": "rioja",\n  "release": "1",,\n}');
  assert.match(m, /not valid JSON: .* at line 3, column 18/);
});

test('the agent layer\'s rendering is accepted: empty hostname/domain mean unset, updates is known', () => {
  const c = parseConfig(JSON.stringify({ ...base, hostname: '', domain: '', updates: { url: 'http://x/u', publicKey: 'k' } }), F);
  assert.equal(c.hostname, undefined);
  assert.equal(c.domain, undefined);
  assert.match(err({ ...base, updates: { uri: 'x' } }), /updates\.uri: unknown field/);
});
