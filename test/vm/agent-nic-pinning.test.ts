// VM test: the agent on a real systemd userspace keeps wan0/lan0 on the same MACs when the
// NICs' PCI slots are swapped. A minimal Debian root (mmdebstrap, cached), the agent
// installed as the layer's %post does (binary, units, config, `systemctl enable`), booted
// twice in qemu (TCG): boot 1 with NIC A in the first slot, boot 2 with the slots swapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgent } from '../../agent/build.js';
import { between, bootVm, ensureRootTar, parseIpLink, run, tail, type QemuNic } from './agent-vm.js';
import { needs, rootOnly } from '../helpers/needs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CACHE = process.env.XS_AGENT_VM_CACHE ?? path.join(REPO, '.cache', 'agent-vm');
const MAC_A = '52:54:00:a0:00:0a';
const MAC_B = '52:54:00:b0:00:0b';
const TOTAL_MS = 8 * 60_000;

const GUEST_REPORT = `#!/bin/sh
# Print what the test checks to the serial console, then power off.
udevadm settle --timeout=30
# The library unit is Type=exec: wait for it to end so the status is final.
i=0
while systemctl is-active --quiet xs-agent-library.service && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
echo XSVM-BEGIN
ip -o link
echo XSVM-END
echo XSVM-STATUS-BEGIN
/usr/sbin/xs-agent status --json
echo "XSVM-STATUS-RC $?"
echo XSVM-STATUS-END
systemctl poweroff --no-block
`;

const GUEST_UNIT = `[Unit]
Description=VM test: report NIC names and power off
After=xs-agent-firstboot.service xs-agent-library.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/xs-vmtest-report
StandardOutput=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
`;

function enable(root: string, unit: string): void {
  const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  run('chroot', [root, 'systemctl', 'enable', unit]);
}

test('wan0/lan0 stay on their MACs when the PCI slots are swapped', { timeout: TOTAL_MS }, async (t) => {
  const t0 = Date.now();
  const log = (s: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${s}`);
  if (!needs(t, rootOnly('mmdebstrap, chroot, root-owned files in the image'))) return;
  const missing = ['mmdebstrap', 'qemu-system-x86_64', 'mkfs.ext4', 'debugfs', 'cpio'].filter((c) => run('sh', ['-c', `command -v ${c} || true`]).trim() === '');
  assert.deepEqual(missing, [], `missing tools: ${missing.join(', ')} (apt-get install $(cat .ci/apt-agent.txt))`);

  const rootTar = ensureRootTar(CACHE, log, 240_000);
  if (rootTar.built) log(`mmdebstrap took ${(rootTar.ms / 1000).toFixed(0)} s`);

  const work = mkdtempSync(path.join(tmpdir(), 'xs-agent-vm-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const root = path.join(work, 'root');
  mkdirSync(root);
  run('tar', ['-C', root, '-xf', rootTar.tar]);

  // What the agent layer's %post does: binary, units, config, enable.
  const agent = await buildAgent({ out: path.join(work, 'xs-agent') });
  copyFileSync(agent.path, path.join(root, 'usr/sbin/xs-agent'));
  for (const u of ['xs-agent-firstboot.service', 'xs-agent-library.service']) {
    copyFileSync(path.join(REPO, 'layers/xs-agent/files', u), path.join(root, 'usr/lib/systemd/system', u));
  }
  mkdirSync(path.join(root, 'etc/xs-agent'), { recursive: true });
  writeFileSync(
    path.join(root, 'etc/xs-agent/config.json'),
    JSON.stringify(
      {
        site: 'vmtest',
        release: 'test',
        hostname: 'xs-vmtest',
        domain: 'example.org',
        roles: [{ name: 'wan', mac: MAC_A }, { name: 'lan', bootif: true }],
        // update-initramfs alone takes about a minute under TCG.
        timeouts: { nics: 150 },
      },
      null,
      2,
    ),
  );
  enable(root, 'xs-agent-firstboot.service');
  enable(root, 'xs-agent-library.service');
  // The test's own reporter, and no login prompt on the console it prints to.
  writeFileSync(path.join(root, 'usr/local/sbin/xs-vmtest-report'), GUEST_REPORT, { mode: 0o755 });
  writeFileSync(path.join(root, 'etc/systemd/system/xs-vmtest.service'), GUEST_UNIT);
  enable(root, 'xs-vmtest.service');
  symlinkSync('/dev/null', path.join(root, 'etc/systemd/system/serial-getty@ttyS0.service'));

  const kver = readdirSync(path.join(root, 'boot')).find((n) => n.startsWith('vmlinuz-'))!.slice('vmlinuz-'.length);
  const kernel = path.join(work, 'vmlinuz');
  const initrd1 = path.join(work, 'initrd-1');
  copyFileSync(path.join(root, 'boot', `vmlinuz-${kver}`), kernel);
  copyFileSync(path.join(root, 'boot', `initrd.img-${kver}`), initrd1);
  const disk = path.join(work, 'disk.img');
  run('mkfs.ext4', ['-q', '-F', '-L', 'xsroot', '-d', root, disk, '2G']);
  rmSync(root, { recursive: true, force: true });
  log(`image ready (kernel ${kver}, agent ${(agent.size / 1048576).toFixed(1)} MiB)`);

  const append = `root=/dev/vda rw console=ttyS0 quiet panic=-1 BOOTIF=01-${MAC_B.replace(/:/g, '-')}`;
  const left = () => TOTAL_MS - (Date.now() - t0) - 10_000;

  // Boot 1: NIC A in the first slot. The agent runs, pins, regenerates the initramfs.
  const nicsBoot1: QemuNic[] = [
    { mac: MAC_A, model: 'virtio-net-pci', addr: '0x3' },
    { mac: MAC_B, model: 'virtio-net-pci', addr: '0x4' },
  ];
  const b1 = await bootVm({ kernel, initrd: initrd1, disk, nics: nicsBoot1, append, timeoutMs: Math.min(300_000, left()), label: 'boot 1' });
  log(`boot 1 powered off after ${(b1.ms / 1000).toFixed(0)} s`);
  const links1 = between(b1.serial, 'XSVM-BEGIN', 'XSVM-END');
  assert.ok(links1 !== null, `boot 1: no report on the serial console:\n${tail(b1.serial, 40)}`);
  const statusText = between(b1.serial, 'XSVM-STATUS-BEGIN', 'XSVM-STATUS-END') ?? '';
  const status = JSON.parse(statusText.slice(0, statusText.lastIndexOf('XSVM-STATUS-RC')).trim()) as {
    result: string;
    steps: Record<string, { result: string; start?: string; end?: string; notes: string[]; error?: string }>;
  };
  const nics = status.steps.nics!;
  assert.equal(nics.result, 'ok', `boot 1: nics step ${nics.result}: ${nics.error ?? ''} ${nics.notes.join('; ')}`);
  const ir = /initramfs regenerated \(\/usr\/sbin\/update-initramfs -u -k all\) in ([\d.]+) s/.exec(nics.notes.join('\n'));
  assert.ok(ir, `boot 1: initramfs not regenerated: ${nics.notes.join('; ')}`);
  assert.match(nics.notes.join('\n'), /names applied now through udev/);
  assert.equal(status.steps.hostname!.result, 'ok');
  assert.equal(status.result, 'ok', JSON.stringify(status.steps));
  const firstbootMs = Date.parse(status.steps.hostname!.end!) - Date.parse(nics.start!);
  log(`firstboot in the guest: ${(firstbootMs / 1000).toFixed(1)} s (nics ${((Date.parse(nics.end!) - Date.parse(nics.start!)) / 1000).toFixed(1)} s, of which update-initramfs ${ir[1]} s)`);

  // The regenerated initramfs carries the .link files; boot 2 uses it.
  const initrd2 = path.join(work, 'initrd-2');
  run('debugfs', ['-R', `dump -p /boot/initrd.img-${kver} ${initrd2}`, disk]);
  const listing = run('sh', ['-c', `zcat '${initrd2}' | cpio -t --quiet`]);
  assert.match(listing, /lib\/systemd\/network\/10-xs-wan0\.link/, 'regenerated initramfs lacks 10-xs-wan0.link');
  assert.match(listing, /lib\/systemd\/network\/10-xs-lan0\.link/, 'regenerated initramfs lacks 10-xs-lan0.link');

  // Boot 2: slots swapped. The agent has nothing to do; the names must still hold.
  const nicsBoot2: QemuNic[] = [
    { mac: MAC_B, model: 'virtio-net-pci', addr: '0x3' },
    { mac: MAC_A, model: 'virtio-net-pci', addr: '0x4' },
  ];
  const b2 = await bootVm({ kernel, initrd: initrd2, disk, nics: nicsBoot2, append, timeoutMs: Math.min(150_000, left()), label: 'boot 2' });
  log(`boot 2 powered off after ${(b2.ms / 1000).toFixed(0)} s`);
  const links2 = between(b2.serial, 'XSVM-BEGIN', 'XSVM-END');
  assert.ok(links2 !== null, `boot 2: no report on the serial console:\n${tail(b2.serial, 40)}`);

  for (const [label, text, firstMac] of [['boot 1', links1, MAC_A], ['boot 2', links2, MAC_B]] as const) {
    const m = parseIpLink(text);
    // The kernel enumerated the NICs in slot order: the swap really changed the order.
    assert.equal([...m.values()][0], firstMac, `${label}: the kernel's first NIC is not ${firstMac}:\n${text}`);
    log(`${label}: ${[...m].map(([n, mac]) => `${n}=${mac}`).join(' ')}`);
    assert.equal(m.get('wan0'), MAC_A, `${label}: wan0 is not ${MAC_A}:\n${text}`);
    assert.equal(m.get('lan0'), MAC_B, `${label}: lan0 is not ${MAC_B}:\n${text}`);
    for (const [name, mac] of m) {
      if (mac === MAC_A || mac === MAC_B) assert.ok(name === 'wan0' || name === 'lan0', `${label}: ${name} also has ${mac}`);
      assert.doesNotMatch(name, /^eth\d+$/, `${label}: ${name} is in the ethN namespace`);
    }
  }
  assert.match(b2.serial, /"result": "ok"/, 'boot 2: status not ok');
  log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});
