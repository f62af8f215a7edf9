// --dhcp-proxy IFACE: dnsmasq in proxy-DHCP + TFTP mode beside the school's DHCP server,
// started and stopped with `serve`, restarted a few times if it dies.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dnsmasqConf } from '../netboot/dnsmasq.js';
import { dnsmasqRun, dnsmasqTest, type Supervised } from '../tools/dnsmasq.js';
import { ipv4Address } from '../tools/iproute.js';
import { InputError, BuildError } from '../errors.js';

export interface DhcpProxy {
  conf: string;
  stop(): Promise<void>;
}

export async function interfaceAddress(iface: string): Promise<string> {
  const v4 = os.networkInterfaces()[iface]?.find((a) => a.family === 'IPv4');
  if (v4) return v4.address;
  // Not listed by Node when the link has no carrier yet: ask the kernel.
  const ip = await ipv4Address(iface);
  if (ip.address) return ip.address;
  if (!ip.exists) {
    throw new InputError({ file: '--dhcp-proxy' }, `no network interface "${iface}"`, `choose one of: ${Object.keys(os.networkInterfaces()).join(', ')}`);
  }
  throw new InputError({ file: '--dhcp-proxy' }, `interface ${iface} has no IPv4 address`, 'proxy-DHCP answers on an IPv4 network: give the interface an address');
}

/**
 * dnsmasq reads the TFTP root as an unprivileged user (nobody): the boot files and every
 * directory above them must be open to others, or PXE clients get "Permission denied".
 * Returns the first path that is not, if any.
 */
export async function unreadableByOthers(file: string): Promise<string | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (!st || !(st.mode & 0o004)) return file;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const d = await stat(dir).catch(() => undefined);
    if (!d || !(d.mode & 0o001)) return dir;
    if (dir === path.dirname(dir)) return undefined;
  }
}

export async function startDhcpProxy(i: { iface: string; tftpRoot: string; log: (l: string) => void; onFatal: (e: Error) => void }): Promise<DhcpProxy> {
  const subnet = await interfaceAddress(i.iface);
  const closed = await unreadableByOthers(path.join(i.tftpRoot, 'bootstrap.ipxe'));
  if (closed) i.log(`warning: ${closed} is not readable by others; dnsmasq (as nobody) cannot serve the tree over TFTP: chmod o+rX it`);
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-dnsmasq-'));
  const conf = path.join(dir, 'dnsmasq.conf');
  await writeFile(conf, dnsmasqConf({ tftpRoot: i.tftpRoot, iface: i.iface, subnet, server: subnet }));
  await dnsmasqTest(conf);
  let current: Supervised | undefined;
  let stopping = false;
  let restarts = 0;
  const start = () => {
    const s = dnsmasqRun(conf, (l) => i.log(`dnsmasq: ${l}`));
    current = s;
    s.exited.then(
      (code) => {
        if (stopping) return;
        if (restarts >= 5) return i.onFatal(new BuildError(`dnsmasq keeps exiting (last: ${code})`, 'see the dnsmasq lines above'));
        restarts++;
        i.log(`dnsmasq exited (${code}); restarting (${restarts}/5)`);
        setTimeout(() => !stopping && start(), 1000 * restarts);
      },
      (e) => i.onFatal(e as Error),
    );
  };
  start();
  return {
    conf,
    async stop() {
      stopping = true;
      await current?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
