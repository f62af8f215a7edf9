// Role resolution: which NIC gets which role name. Pure: config + discovered NICs +
// BOOTIF in, assignments or problems out. Any problem means nothing gets written.
import type { RoleConfig } from './config.js';
import type { Nic } from './nics.js';
import type { BootIf } from './cmdline.js';

export interface Assignment {
  role: RoleConfig;
  nic: Nic;
}

export type Resolution = { ok: true; assignments: Assignment[]; notes: string[] } | { ok: false; problems: string[] };

export function resolveRoles(roles: RoleConfig[], nics: Nic[], bootif: BootIf): Resolution {
  const problems: string[] = [];
  const notes: string[] = [];
  const byMac = new Map<string, Nic[]>();
  for (const n of nics) byMac.set(n.mac, [...(byMac.get(n.mac) ?? []), n]);
  const present = () => (nics.length ? nics.map((n) => `${n.name}=${n.mac}`).join(', ') : 'none');
  const taken = new Map<string, string>(); // mac -> role name
  const chosen = new Map<string, Nic>(); // role name -> nic

  const claim = (role: RoleConfig, mac: string, how: string): void => {
    const found = byMac.get(mac) ?? [];
    if (found.length === 0) {
      problems.push(`role ${role.name}: ${how} ${mac} is not present on this machine (NICs: ${present()}); fix the MAC in the machine record`);
      return;
    }
    if (found.length > 1) {
      problems.push(`role ${role.name}: ${found.length} NICs share ${how} ${mac} (${found.map((n) => n.name).join(', ')}); give the role a distinct MAC`);
      return;
    }
    const prev = taken.get(mac);
    if (prev) {
      problems.push(`roles ${prev} and ${role.name} both resolve to ${mac} (${found[0]!.name}); one NIC cannot have two roles`);
      return;
    }
    taken.set(mac, role.name);
    chosen.set(role.name, found[0]!);
  };

  // Explicit MACs first, then BOOTIF, then "other" takes what is left: the order makes
  // "other" mean "the NIC that no more specific rule claimed".
  for (const role of roles) if (role.match.kind === 'mac') claim(role, role.match.mac, 'MAC');
  for (const role of roles) {
    if (role.match.kind !== 'bootif') continue;
    if (bootif === null) {
      problems.push(`role ${role.name}: "bootif" but the kernel command line has no BOOTIF=; give the role an explicit "mac", or boot through the install server`);
    } else if ('error' in bootif) {
      problems.push(`role ${role.name}: ${bootif.error}`);
    } else {
      claim(role, bootif.mac, 'BOOTIF MAC');
    }
  }
  for (const role of roles) {
    if (role.match.kind !== 'other') continue;
    const rest = nics.filter((n) => !taken.has(n.mac) && !n.wireless && (byMac.get(n.mac)?.length ?? 0) === 1);
    if (rest.length === 0) {
      problems.push(`role ${role.name}: "other" but no wired NIC is left (NICs: ${present()}); check the cabling or give the role an explicit "mac"`);
    } else if (rest.length > 1) {
      problems.push(`role ${role.name}: "other" is ambiguous, ${rest.length} wired NICs are left (${rest.map((n) => `${n.name}=${n.mac}`).join(', ')}); give the role an explicit "mac"`);
    } else {
      claim(role, rest[0]!.mac, 'remaining NIC');
    }
  }
  if (problems.length) return { ok: false, problems };

  const assignments = roles.map((role) => ({ role, nic: chosen.get(role.name)! }));
  for (const a of assignments) {
    if (!a.nic.permanent) {
      notes.push(`${a.role.ifname}: ${a.nic.name} reports no permanent MAC; matching its current address ${a.nic.mac}`);
    }
  }
  return { ok: true, assignments, notes };
}
