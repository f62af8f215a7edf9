// Unit tests of the netboot scripts and tree: relative URLs, per-machine selection,
// refusal of unknown machines, etherboot script depending only on the server URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootIpxe, bootstrapGrub, bootstrapIpxe, grubHttp, hexhyp, machineIpxe, netbootGrub, type BootScriptInput } from '../../builder/netboot/scripts.js';
import { dnsmasqConf } from '../../builder/netboot/dnsmasq.js';
import { dnsmasqTest } from '../../builder/tools/dnsmasq.js';

const input = (unknownMachines: 'default' | 'refuse'): BootScriptInput => ({
  site: 'rioja', release: '2026.11', kernel: 'images/pxeboot/vmlinuz', initrds: ['images/pxeboot/initrd.img', 'images/xsbuild/overlay.img'], args: ['console=ttyS0', 'nomodeset'], unknownMachines,
});

test('boot.ipxe fetches only relative URLs and selects the machine by MAC', () => {
  const s = bootIpxe(input('default'));
  assert.ok(s.startsWith('#!ipxe\n'));
  // Every fetch, with its URI: the first word after the options (--name and --timeout take a value).
  const fetches = s.split('\n').filter((l) => /^(kernel|initrd|chain|imgfetch)\b/.test(l)).map((line) => {
    const words = line.split(/\s+/);
    let i = 1;
    while (words[i]?.startsWith('-')) i += /^--(name|timeout)$/.test(words[i]) ? 2 : 1;
    return `${words[0]} ${words[i]}`;
  });
  assert.deepEqual(fetches, [
    'chain machines/${xs-mac}.ipxe?mac=${xs-mac}',
    'kernel images/pxeboot/vmlinuz?mac=${xs-mac}',
    'initrd images/pxeboot/initrd.img?mac=${xs-mac}',
    'initrd images/xsbuild/overlay.img?mac=${xs-mac}',
    'imgfetch xsbuild/report/${xs-mac}/error',
  ]);
  for (const f of fetches) assert.doesNotMatch(f.split(' ')[1], /^[a-z]+:\/\/|^\/|^\$\{/, `absolute URL in: ${f}`);
  assert.match(s, /chain --autofree machines\/\$\{xs-mac\}\.ipxe\?mac=\$\{xs-mac\} \|\| goto unknown/);
  assert.match(s, /set xs-mac \$\{netX\/mac:hexhyp\}/);
  const kernel = s.split('\n').find((l) => l.startsWith('kernel'))!;
  assert.match(kernel, / BOOTIF=01-\$\{xs-mac\} /);
  assert.match(kernel, / inst\.ks=\$\{xs-base\}\$\{xs-ks\} /);
  assert.match(kernel, /initrd=initrd\.img initrd=overlay\.img/);
  assert.match(kernel, /console=ttyS0 nomodeset$/);
  assert.match(s, /isset \$\{xs-base\} \|\| set xs-base \$\{filename\}\/\.\.\//);
  assert.match(s, /:unknown\nset xs-host schoolserver\nset xs-ks ks\/default\.cfg/);
});

test('a site that refuses unknown machines never hands them a kickstart', () => {
  const s = bootIpxe(input('refuse'));
  const unknown = s.slice(s.indexOf(':unknown'), s.indexOf(':install'));
  assert.doesNotMatch(unknown, /default\.cfg|goto install/);
  assert.match(unknown, /exit 1/);
  assert.match(unknown, /xsbuild\/report\/\$\{xs-mac\}\/refused/);
  const g = netbootGrub(input('refuse'));
  assert.doesNotMatch(g, /default\.cfg/);
  assert.match(g, /refused/);
});

test('machine scripts name their own kickstart', () => {
  const s = machineIpxe({ mac: '52:54:00:AA:bb:01', hostname: 'escuela-1' }, 'rioja');
  assert.equal(hexhyp('52:54:00:AA:bb:01'), '52-54-00-aa-bb-01');
  assert.match(s, /set xs-ks ks\/52-54-00-aa-bb-01\.cfg/);
  assert.match(s, /set xs-host escuela-1/);
});

test('the etherboot scripts depend only on the server URL', () => {
  assert.equal(bootstrapIpxe('http://10.0.0.1:8080/x'), bootstrapIpxe('http://10.0.0.1:8080/x/'));
  assert.notEqual(bootstrapIpxe('http://10.0.0.1:8080/x/'), bootstrapIpxe('http://10.0.0.2:8080/x/'));
  assert.match(bootstrapIpxe('http://10.0.0.1:8080/x/'), /set xs-base http:\/\/10\.0\.0\.1:8080\/x\/\nchain --autofree \$\{xs-base\}boot\.ipxe/);
  assert.deepEqual(grubHttp('http://h.example:81/a/b/'), { device: '(http,h.example:81)', prefix: '/a/b' });
  assert.deepEqual(grubHttp('http://h.example/'), { device: '(http,h.example)', prefix: '' });
  assert.match(bootstrapGrub('http://h.example:81/a/'), /source "\$\{xs_root\}\/grub\/netboot\.cfg"/);
  assert.throws(() => grubHttp('https://h.example/'), /http:\/\//);
});

test('the dnsmasq proxy-DHCP config passes dnsmasq --test', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-dnsmasq-'));
  try {
    const conf = path.join(dir, 'dnsmasq.conf');
    await writeFile(conf, dnsmasqConf({ tftpRoot: dir, iface: 'lo', subnet: '127.0.0.1' }));
    assert.match(await dnsmasqTest(conf), /syntax check OK/);
    await writeFile(conf, dnsmasqConf({ tftpRoot: dir }));
    assert.match(await dnsmasqTest(conf), /syntax check OK/);
    await writeFile(conf, dnsmasqConf({ tftpRoot: dir }) + 'dhcp-range=nonsense,proxy,\n');
    await assert.rejects(dnsmasqTest(conf), /dnsmasq rejects/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
