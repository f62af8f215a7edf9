// NIC discovery from sysfs (under --root for tests). Only physical Ethernet devices are
// candidates: virtual ones (lo, bridges, bonds, VLANs, veth, tun) have no `device` link
// and would otherwise share a MAC with a real NIC.
import { promises as fsp } from 'node:fs';
import { TargetFs, isNotFound } from './fsutil.js';
import { parseMac, isZeroMac } from './mac.js';

export interface Nic {
  /** Current kernel name ("ens3", "eth0", "wan0"). */
  name: string;
  /** Permanent MAC where known, else the current one; canonical form. */
  mac: string;
  /** False when the current address was set or randomised and no permanent one is known. */
  permanent: boolean;
  wireless: boolean;
  /** operstate from sysfs; an interface that is up cannot be renamed live. */
  up: boolean;
  /** Kernel driver ("e1000e", "virtio_net"), when sysfs shows it. */
  driver?: string;
}

const ARPHRD_ETHER = '1';
const NET_ADDR_PERM = '0';

export async function discoverNics(fs: TargetFs): Promise<Nic[]> {
  const dir = fs.p('/sys/class/net');
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if (isNotFound(e)) throw new Error(`${dir} not found: sysfs is not mounted in the target`);
    throw e;
  }
  const nics: Nic[] = [];
  for (const name of names.sort()) {
    const base = `/sys/class/net/${name}`;
    if (name === 'lo') continue;
    if (!(await fs.exists(`${base}/device`))) continue;
    const type = (await fs.readTextOr(`${base}/type`, ARPHRD_ETHER)).trim();
    if (type !== ARPHRD_ETHER) continue;
    // A bonded NIC shows the bond's MAC; its own is kept in perm_hwaddr.
    const perm = parseMac(await fs.readTextOr(`${base}/bonding_slave/perm_hwaddr`, ''));
    const cur = parseMac(await fs.readTextOr(`${base}/address`, ''));
    const mac = perm ?? cur;
    if (!mac || isZeroMac(mac)) continue;
    const assign = (await fs.readTextOr(`${base}/addr_assign_type`, NET_ADDR_PERM)).trim();
    const wireless = (await fs.exists(`${base}/wireless`)) || (await fs.exists(`${base}/phy80211`));
    const oper = (await fs.readTextOr(`${base}/operstate`, 'down')).trim();
    const flags = parseInt((await fs.readTextOr(`${base}/flags`, '0x0')).trim(), 16);
    const driver = await driverOf(fs.p(`${base}/device/driver`));
    nics.push({
      name,
      mac,
      permanent: perm !== null || assign === NET_ADDR_PERM,
      wireless,
      up: oper === 'up' || (Number.isFinite(flags) && (flags & 1) === 1),
      ...(driver ? { driver } : {}),
    });
  }
  return nics;
}

/** device/driver is a symlink to /sys/bus/<bus>/drivers/<name>. */
async function driverOf(link: string): Promise<string | undefined> {
  try {
    const target = await fsp.readlink(link);
    return target.split('/').pop() || undefined;
  } catch {
    return undefined;
  }
}
