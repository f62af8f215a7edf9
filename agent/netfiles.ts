// Rendering of the files that pin a role to a NIC. Pure: assignments in, file list out.
import { sha256 } from '../lib/hash.js';
import type { Assignment } from './roles.js';

export interface PlannedFile {
  /** Absolute path on the target. */
  path: string;
  content: string;
  mode: number;
}

export interface TargetKind {
  /** /etc/NetworkManager exists on the target. */
  networkManager: boolean;
  /** /etc/sysconfig/network-scripts exists on the target. */
  ifcfgDir: boolean;
  /** That directory already holds ifcfg-* profiles (a target configured the legacy way). */
  ifcfgInUse: boolean;
  /** The target's systemd version, null when unknown. */
  systemdVersion: number | null;
}

export const LINK_DIR = '/etc/systemd/network';
export const NM_DIR = '/etc/NetworkManager/system-connections';
export const IFCFG_DIR = '/etc/sysconfig/network-scripts';
// Our files carry this prefix so a later run can find (and replace) exactly its own.
export const LINK_PREFIX = '10-xs-';
export const NM_PREFIX = 'xs-';

export const FILE_HEADER = '# Written by xs-agent: pins a NIC role to its MAC. Changes are overwritten.';

/**
 * A systemd .link file. "10-" sorts before 99-default.link, and the first matching file is
 * the only one applied. PermanentMACAddress= does not match VLANs or bonds that borrow the
 * NIC's address. systemd before v245 does not know that key (and would ignore it, leaving
 * a [Match] that matches every NIC), and a NIC may report no permanent address: then the
 * current MACAddress= is matched, narrowed by Driver= so virtual devices sharing the
 * address stay out. No Type=: before v246 it matched DEVTYPE, which Ethernet lacks.
 */
export function renderLink(a: Assignment, systemdVersion: number | null = null): PlannedFile {
  const permanent = a.nic.permanent && (systemdVersion === null || systemdVersion >= PERMANENT_MAC_SINCE);
  const match = permanent ? [`PermanentMACAddress=${a.nic.mac}`] : [`MACAddress=${a.nic.mac}`, ...(a.nic.driver ? [`Driver=${a.nic.driver}`] : [])];
  const content = [FILE_HEADER, `# role ${a.role.name}`, '[Match]', ...match, '', '[Link]', `Name=${a.role.ifname}`, ''].join('\n');
  return { path: `${LINK_DIR}/${LINK_PREFIX}${a.role.ifname}.link`, content, mode: 0o644 };
}

/** systemd release that added PermanentMACAddress= to .link [Match]. */
export const PERMANENT_MAC_SINCE = 245;

/** UUID derived from the role and MAC, so re-rendering gives the same file (and profile). */
export function stableUuid(...parts: string[]): string {
  const h = sha256(parts.join('\0'));
  const v = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return v;
}

/** A NetworkManager keyfile bound to the MAC (and to the pinned name). */
export function renderNmKeyfile(a: Assignment): PlannedFile {
  const id = `${NM_PREFIX}${a.role.ifname}`;
  const ip = a.role.ipv4;
  const ipv4 =
    ip.method === 'dhcp'
      ? ['method=auto']
      : ['method=manual', `address1=${ip.address}/${ip.prefix}${ip.gateway ? `,${ip.gateway}` : ''}`];
  const content = [
    FILE_HEADER,
    '[connection]',
    `id=${id}`,
    `uuid=${stableUuid('nm', a.role.name, a.nic.mac)}`,
    'type=ethernet',
    `interface-name=${a.role.ifname}`,
    'autoconnect=true',
    '',
    '[ethernet]',
    `mac-address=${a.nic.mac.toUpperCase()}`,
    '',
    '[ipv4]',
    ...ipv4,
    '',
    '[ipv6]',
    'method=auto',
    '',
  ].join('\n');
  // NetworkManager ignores keyfiles that are readable by others.
  return { path: `${NM_DIR}/${id}.nmconnection`, content, mode: 0o600 };
}

/** A legacy ifcfg file; HWADDR binds it to the NIC. */
export function renderIfcfg(a: Assignment): PlannedFile {
  const ip = a.role.ipv4;
  const lines = [
    FILE_HEADER,
    `DEVICE=${a.role.ifname}`,
    `NAME=${NM_PREFIX}${a.role.ifname}`,
    `HWADDR=${a.nic.mac}`,
    'TYPE=Ethernet',
    'ONBOOT=yes',
    ...(ip.method === 'dhcp'
      ? ['BOOTPROTO=dhcp']
      : ['BOOTPROTO=none', `IPADDR=${ip.address}`, `PREFIX=${ip.prefix}`, ...(ip.gateway ? [`GATEWAY=${ip.gateway}`] : [])]),
    '',
  ];
  return { path: `${IFCFG_DIR}/ifcfg-${a.role.ifname}`, content: lines.join('\n'), mode: 0o644 };
}

/**
 * Every file for every assignment. One connection profile per NIC: ifcfg on targets that
 * already use ifcfg (or have no NetworkManager), else a keyfile where NetworkManager is.
 */
export function planNetFiles(assignments: Assignment[], kind: TargetKind): PlannedFile[] {
  const useIfcfg = kind.ifcfgDir && (kind.ifcfgInUse || !kind.networkManager);
  const useKeyfile = kind.networkManager && !useIfcfg;
  const files: PlannedFile[] = [];
  for (const a of assignments) {
    files.push(renderLink(a, kind.systemdVersion));
    if (useKeyfile) files.push(renderNmKeyfile(a));
    if (useIfcfg) files.push(renderIfcfg(a));
  }
  return files;
}
