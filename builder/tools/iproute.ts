// iproute2: the IPv4 address of an interface as the kernel has it. Node's
// os.networkInterfaces() lists only interfaces that are up *and* have carrier, so an
// install network whose switch is still unplugged, or a bridge with no port up yet,
// looks absent there although dnsmasq serves it as soon as the link comes up.
import { run } from './exec.js';

interface IpAddrJson {
  ifname: string;
  addr_info?: { family: string; local: string }[];
}

/** `exists: false` when there is no such interface; `address` undefined when it has no IPv4 address. */
export async function ipv4Address(iface: string): Promise<{ exists: boolean; address?: string }> {
  let stdout: string;
  try {
    ({ stdout } = await run('ip', ['-j', 'addr', 'show', 'dev', iface]));
  } catch {
    return { exists: false };
  }
  const links = JSON.parse(stdout || '[]') as IpAddrJson[];
  if (links.length === 0) return { exists: false };
  return { exists: true, address: links[0].addr_info?.find((a) => a.family === 'inet')?.local };
}
