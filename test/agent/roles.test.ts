import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../agent/config.js';
import { parseBootIf, splitCmdline } from '../../agent/cmdline.js';
import { resolveRoles } from '../../agent/roles.js';
import type { Nic } from '../../agent/nics.js';
import { MAC_A, MAC_B, MAC_C } from './fixtures.js';

const nic = (name: string, mac: string, extra: Partial<Nic> = {}): Nic => ({ name, mac, permanent: true, wireless: false, up: false, ...extra });
const roles = (r: unknown[]) => parseConfig(JSON.stringify({ site: 's', release: 'r', roles: r }), 'cfg').roles;
const pairs = (res: ReturnType<typeof resolveRoles>) => {
  assert.ok(res.ok, `not resolved: ${res.ok ? '' : res.problems.join('; ')}`);
  return res.assignments.map((a) => `${a.role.ifname}=${a.nic.mac}`);
};
const problems = (res: ReturnType<typeof resolveRoles>) => {
  assert.ok(!res.ok, 'resolved although it should not');
  return res.problems.join('\n');
};

test('explicit MAC, BOOTIF and other each find their NIC, whatever the kernel named them', () => {
  const r = roles([{ name: 'wan', mac: MAC_A }, { name: 'lan', bootif: true }, { name: 'lab', other: true }]);
  const nics = [nic('eth0', MAC_C), nic('eth1', MAC_B), nic('eth2', MAC_A)];
  assert.deepEqual(pairs(resolveRoles(r, nics, { mac: MAC_B })), [`wan0=${MAC_A}`, `lan0=${MAC_B}`, `lab0=${MAC_C}`]);
  // The same machine with the kernel's order reversed gives the same answer.
  assert.deepEqual(pairs(resolveRoles(r, [...nics].reverse().map((n, i) => ({ ...n, name: `eth${i}` })), { mac: MAC_B })), [`wan0=${MAC_A}`, `lan0=${MAC_B}`, `lab0=${MAC_C}`]);
});

test('other skips wireless NICs and NICs claimed by earlier rules', () => {
  const r = roles([{ name: 'lan', other: true }, { name: 'wan', mac: MAC_A }]);
  const nics = [nic('ens3', MAC_A), nic('wlp2s0', MAC_C, { wireless: true }), nic('ens4', MAC_B)];
  assert.deepEqual(pairs(resolveRoles(r, nics, null)), [`lan0=${MAC_B}`, `wan0=${MAC_A}`]);
});

test('a MAC that is not present is a problem naming the role and the NICs seen', () => {
  const p = problems(resolveRoles(roles([{ name: 'wan', mac: MAC_C }]), [nic('ens3', MAC_A)], null));
  assert.match(p, new RegExp(`role wan: MAC ${MAC_C} is not present on this machine \\(NICs: ens3=${MAC_A}\\)`));
});

test('two NICs left for "other" is ambiguous', () => {
  const p = problems(resolveRoles(roles([{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }]), [nic('ens3', MAC_A), nic('ens4', MAC_B), nic('ens5', MAC_C)], null));
  assert.match(p, /role lan: "other" is ambiguous, 2 wired NICs are left/);
});

test('no NIC left for "other" is a problem', () => {
  const p = problems(resolveRoles(roles([{ name: 'wan', mac: MAC_A }, { name: 'lan', other: true }]), [nic('ens3', MAC_A)], null));
  assert.match(p, /role lan: "other" but no wired NIC is left/);
});

test('two NICs with the same MAC are ambiguous', () => {
  const p = problems(resolveRoles(roles([{ name: 'wan', mac: MAC_A }]), [nic('ens3', MAC_A), nic('ens4', MAC_A)], null));
  assert.match(p, /2 NICs share MAC/);
});

test('BOOTIF naming a NIC already claimed by an explicit MAC is a conflict', () => {
  const p = problems(resolveRoles(roles([{ name: 'wan', mac: MAC_A }, { name: 'lan', bootif: true }]), [nic('ens3', MAC_A), nic('ens4', MAC_B)], { mac: MAC_A }));
  assert.match(p, /roles wan and lan both resolve to/);
});

test('bootif without BOOTIF on the command line is a problem', () => {
  const p = problems(resolveRoles(roles([{ name: 'lan', bootif: true }]), [nic('ens3', MAC_A)], null));
  assert.match(p, /no BOOTIF=/);
  assert.match(problems(resolveRoles(roles([{ name: 'lan', bootif: true }]), [nic('ens3', MAC_A)], parseBootIf('BOOTIF=01-zz'))), /BOOTIF="01-zz" .* is not a MAC/);
});

test('a NIC without a permanent MAC resolves with a note', () => {
  const res = resolveRoles(roles([{ name: 'wan', other: true }]), [nic('ens3', MAC_A, { permanent: false })], null);
  assert.ok(res.ok);
  assert.match(res.notes.join(), /no permanent MAC/);
});

test('BOOTIF parsing: pxelinux/iPXE form, plain form, last one wins, quoting', () => {
  assert.deepEqual(parseBootIf('ro BOOTIF=01-52-54-00-AA-00-01 quiet'), { mac: MAC_A });
  assert.deepEqual(parseBootIf('BOOTIF=52:54:00:aa:00:01'), { mac: MAC_A });
  assert.deepEqual(parseBootIf(`BOOTIF=01-52-54-00-aa-00-01 BOOTIF=01-${MAC_B.replace(/:/g, '-')}`), { mac: MAC_B });
  assert.equal(parseBootIf('root=/dev/vda ro'), null);
  assert.deepEqual(splitCmdline('a "b c" d="e f"\n'), ['a', 'b c', 'd=e f']);
});
