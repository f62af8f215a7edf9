// The proxy-DHCP pieces that real PXE/iPXE clients depend on (the namespace VM test,
// test/vm/netboot-dhcp.test.ts, boots through all of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dnsmasqConf } from '../../builder/netboot/dnsmasq.js';
import { dnsmasqTest } from '../../builder/tools/dnsmasq.js';
import { interfaceAddress, unreadableByOthers } from '../../builder/serve/dhcp.js';

test('proxy replies name the next-server with every boot file, and TFTP is not owner-restricted', async () => {
  const conf = dnsmasqConf({ tftpRoot: '/srv/t', iface: 'lo', subnet: '127.0.0.1', server: '127.0.0.1' });
  const boots = conf.split('\n').filter((l) => l.startsWith('dhcp-boot='));
  assert.equal(boots.length, 3);
  for (const l of boots) assert.match(l, /,,127\.0\.0\.1$/, `no next-server: ${l}`);
  // tftp-secure only serves files owned by the user dnsmasq drops to; a built tree never is.
  assert.doesNotMatch(conf, /^tftp-secure/m);
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-dhcp-'));
  try {
    await writeFile(path.join(dir, 'dnsmasq.conf'), conf);
    assert.match(await dnsmasqTest(path.join(dir, 'dnsmasq.conf')), /syntax check OK/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // The template without an address says what to add.
  assert.match(dnsmasqConf({ tftpRoot: '/srv/t' }), /^# Append ",,<this server's address>"/m);
});

test('a tree dnsmasq cannot read is found before a client meets "Permission denied"', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-dhcp-'));
  try {
    const tree = path.join(dir, 'netboot');
    await mkdir(tree);
    const file = path.join(tree, 'bootstrap.ipxe');
    await writeFile(file, '#!ipxe\n');
    await chmod(dir, 0o700);
    assert.equal(await unreadableByOthers(file), dir);
    await chmod(dir, 0o755);
    await chmod(file, 0o600);
    assert.equal(await unreadableByOthers(file), file);
    await chmod(file, 0o644);
    assert.equal(await unreadableByOthers(file), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the proxy address comes from the interface; a missing interface is bad input', async () => {
  assert.equal(await interfaceAddress('lo'), '127.0.0.1');
  await assert.rejects(interfaceAddress('xsnosuch0'), /no network interface "xsnosuch0"/);
});
