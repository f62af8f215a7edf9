// --dhcp-proxy IFACE: dnsmasq in proxy-DHCP + TFTP mode beside the school's DHCP server,
// started and stopped with `serve`, restarted a few times if it dies.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dnsmasqConf } from '../netboot/dnsmasq.js';
import { dnsmasqRun, dnsmasqTest, type Supervised } from '../tools/dnsmasq.js';
import { InputError, BuildError } from '../errors.js';

export interface DhcpProxy {
  conf: string;
  stop(): Promise<void>;
}

export function interfaceAddress(iface: string): string {
  const addrs = os.networkInterfaces()[iface];
  if (!addrs) {
    throw new InputError({ file: '--dhcp-proxy' }, `no network interface "${iface}"`, `choose one of: ${Object.keys(os.networkInterfaces()).join(', ')}`);
  }
  const v4 = addrs.find((a) => a.family === 'IPv4');
  if (!v4) throw new InputError({ file: '--dhcp-proxy' }, `interface ${iface} has no IPv4 address`, 'proxy-DHCP answers on an IPv4 network: give the interface an address');
  return v4.address;
}

export async function startDhcpProxy(i: { iface: string; tftpRoot: string; log: (l: string) => void; onFatal: (e: Error) => void }): Promise<DhcpProxy> {
  const subnet = interfaceAddress(i.iface);
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-dnsmasq-'));
  const conf = path.join(dir, 'dnsmasq.conf');
  await writeFile(conf, dnsmasqConf({ tftpRoot: i.tftpRoot, iface: i.iface, subnet }));
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
