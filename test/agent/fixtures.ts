// Builders for fake target roots: sysfs NIC entries, /proc/cmdline, config.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface FakeNic {
  name: string;
  mac: string;
  /** No `device` link: a bridge, bond, veth... */
  virtual?: boolean;
  type?: number;
  wireless?: boolean;
  permHwaddr?: string;
  driver?: string;
  addrAssignType?: number;
  up?: boolean;
}

export function makeRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'xs-agent-root-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'sys/class/net'), { recursive: true });
  mkdirSync(path.join(root, 'proc'), { recursive: true });
  writeFileSync(path.join(root, 'proc/cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet\n');
  return root;
}

export function addNic(root: string, n: FakeNic): void {
  const d = path.join(root, 'sys/class/net', n.name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'address'), `${n.mac}\n`);
  writeFileSync(path.join(d, 'type'), `${n.type ?? 1}\n`);
  writeFileSync(path.join(d, 'addr_assign_type'), `${n.addrAssignType ?? 0}\n`);
  writeFileSync(path.join(d, 'operstate'), n.up ? 'up\n' : 'down\n');
  writeFileSync(path.join(d, 'flags'), n.up ? '0x1003\n' : '0x1002\n');
  if (!n.virtual) {
    mkdirSync(path.join(d, 'device'));
    if (n.driver) symlinkSync(`../../../../bus/pci/drivers/${n.driver}`, path.join(d, 'device/driver'));
  }
  if (n.wireless) mkdirSync(path.join(d, 'wireless'));
  if (n.permHwaddr) {
    mkdirSync(path.join(d, 'bonding_slave'));
    writeFileSync(path.join(d, 'bonding_slave/perm_hwaddr'), `${n.permHwaddr}\n`);
  }
}

export function setCmdline(root: string, text: string): void {
  writeFileSync(path.join(root, 'proc/cmdline'), `${text}\n`);
}

export function writeConfig(root: string, cfg: unknown, at = '/etc/xs-agent/config.json'): string {
  const p = path.join(root, at);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, typeof cfg === 'string' ? cfg : JSON.stringify(cfg, null, 2));
  return at;
}

export function touchTool(root: string, at: string): void {
  mkdirSync(path.join(root, path.dirname(at)), { recursive: true });
  writeFileSync(path.join(root, at), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
}

/** Run the CLI in-process, capturing its lines. */
export async function runCli(main: (argv: string[], io: { out: (l: string) => void; err: (l: string) => void }) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export const MAC_A = '52:54:00:aa:00:01';
export const MAC_B = '52:54:00:bb:00:02';
export const MAC_C = '52:54:00:cc:00:03';

/** Mark the fake target's systemd version the way a real one shows it. */
export function setSystemdVersion(root: string, v: number): void {
  mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  writeFileSync(path.join(root, `usr/lib/systemd/libsystemd-shared-${v}.so`), '');
}
