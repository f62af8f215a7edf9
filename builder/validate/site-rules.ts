// Checks across the fields of one site file, after the schema: what no single field can
// see alone. Every finding names the file, line, column and field, and says what to do.
import { InputError } from '../errors.js';
import type { LoadedSite } from '../site.js';
import { SYSTEM_TREES, VOLATILE_TREES, mediaOwnedPaths, spellingProblem, within } from './trees.js';
import { closest, isKnownZone, shippedList, zoneNames, zoneSource, SYSTEM_ZONEINFO, type ZoneSource } from './names.js';
import { siteRepoName } from '../repos.js';

export interface SiteCheckOptions {
  /** Zone database to check `kickstart.timezone` against (tests point it elsewhere). */
  zoneinfoDir?: string;
}

export function checkSiteRules(site: LoadedSite, opts: SiteCheckOptions = {}): InputError[] {
  return [...domainRules(site), ...machineRules(site), ...libraryRules(site), ...bootArgRules(site), ...installerValueRules(site, opts)];
}

/** DNS limits the schema's pattern cannot express: 63 per label, 253 per name (RFC 1035). */
function domainRules(site: LoadedSite): InputError[] {
  const out: InputError[] = [];
  const domain = site.data.domain;
  const long = domain.split('.').find((l) => l.length > 63);
  if (long) {
    out.push(err(site, ['domain'], `domain label "${long.slice(0, 20)}…" is ${long.length} characters; DNS allows 63`, 'shorten that part of the domain'));
  } else if (domain.length > 253) {
    out.push(err(site, ['domain'], `domain is ${domain.length} characters; DNS names are at most 253`, 'use a shorter domain'));
  } else {
    (site.data.machines ?? []).forEach((m, i) => {
      const fqdn = `${m.hostname}.${domain}`;
      if (fqdn.length > 253) out.push(err(site, ['machines', i, 'hostname'], `${m.hostname}.<domain> is ${fqdn.length} characters; DNS names are at most 253 (xs-agent would refuse it)`, 'use a shorter hostname or domain'));
    });
  }
  return out;
}

const err = (site: LoadedSite, at: (string | number)[], problem: string, hint: string, key = false) =>
  new InputError(site.pos(at, key), problem, hint, fieldName(at));

export function fieldName(at: (string | number)[]): string {
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Hostnames and MACs are unique across machines; NIC roles can all be true at once. */
function machineRules(site: LoadedSite): InputError[] {
  const out: InputError[] = [];
  const machines = site.data.machines ?? [];
  const label = (i: number) => `machines[${i}] (${machines[i].hostname})`;
  const where = (at: (string | number)[]) => {
    const p = site.pos(at);
    return `${p.file}:${p.line}:${p.col}`;
  };
  const hostnames = new Map<string, number>();
  // Every MAC a machine record claims (its own and its NICs'), to the first claimant.
  const macOwner = new Map<string, { machine: number; at: (string | number)[] }>();
  machines.forEach((m, i) => {
    const prevHost = hostnames.get(m.hostname);
    if (prevHost !== undefined) {
      out.push(err(site, ['machines', i, 'hostname'], `hostname "${m.hostname}" is already used by machines[${prevHost}] (${where(['machines', prevHost, 'hostname'])})`, 'give every machine its own hostname: two servers with one name break DNS and the central office\'s records'));
    } else hostnames.set(m.hostname, i);

    const claims: { mac: string; at: (string | number)[] }[] = [{ mac: m.mac, at: ['machines', i, 'mac'] }];
    const roles = Object.entries(m.nics ?? {});
    const roleOfMac = new Map<string, string>();
    for (const [role, how] of roles) {
      const at = ['machines', i, 'nics', role];
      if (role === 'eth') {
        out.push(err(site, at, 'role "eth" would name its NIC "eth0", inside the kernel\'s ethN namespace (xs-agent refuses it: the kernel and udev race for those names)', 'pick another role name, e.g. "lan" or "wan"', true));
      }
      if (how === 'bootif' || how === 'other') continue;
      const twin = roleOfMac.get(how);
      if (twin !== undefined) {
        out.push(err(site, at, `${how} is already the NIC of role "${twin}"; one NIC cannot have two roles`, 'give each role the MAC of a different NIC'));
        continue;
      }
      roleOfMac.set(how, role);
      // A role may name the machine's own boot NIC (its `mac`).
      if (how !== m.mac) claims.push({ mac: how, at });
    }
    for (const kind of ['bootif', 'other'] as const) {
      const named = roles.filter(([, how]) => how === kind).map(([r]) => r);
      if (named.length > 1) {
        out.push(err(site, ['machines', i, 'nics', named[1]], `only one role can be "${kind}" (also role "${named[0]}"): both would claim the same NIC`, 'give the others the explicit MAC of their NIC'));
      }
    }
    // The machine's record is found by the MAC it netboots from, so that NIC is BOOTIF.
    const bootif = roles.find(([, how]) => how === 'bootif');
    const ownMac = roles.find(([, how]) => how === m.mac);
    if (bootif && ownMac) {
      out.push(err(site, ['machines', i, 'nics', bootif[0]], `role "${bootif[0]}" is "bootif", which is ${m.mac} (the machine's mac, the NIC it netboots from), but role "${ownMac[0]}" names ${m.mac} too`, `give role "${bootif[0]}" the MAC of its own NIC, or make role "${ownMac[0]}" "bootif" and drop the other`));
    }
    for (const c of claims) {
      const prev = macOwner.get(c.mac);
      if (prev && prev.machine !== i) {
        out.push(err(site, c.at, `${c.mac} is already a NIC of ${label(prev.machine)} (${fieldName(prev.at)}, ${where(prev.at)})`, 'a NIC belongs to one machine: check the MAC on the machine\'s label'));
      } else if (!prev) macOwner.set(c.mac, { machine: i, at: c.at });
    }
  });
  return out;
}

/** Library content goes to its own directory, never over the system or the media's own files. */
function libraryRules(site: LoadedSite): InputError[] {
  const out: InputError[] = [];
  const libs = site.data.library ?? [];
  const owned = mediaOwnedPaths(siteRepoName(site));
  const seen: { dest: string; i: number }[] = [];
  libs.forEach((l, i) => {
    const at = ['library', i, 'dest'];
    const spelling = spellingProblem(l.dest);
    if (spelling && !spelling.fix) {
      out.push(err(site, at, `library destination ${l.dest} ${spelling.problem}: the library would be written over the whole target system`, 'use a directory of its own, e.g. /library/content'));
      return;
    }
    if (spelling) {
      out.push(err(site, at, `library destination ${l.dest} ${spelling.problem}`, `write it as ${spelling.fix}`));
      return;
    }
    const system = SYSTEM_TREES.find((t) => t === l.dest);
    if (system) {
      out.push(err(site, at, `library destination ${l.dest} is a system directory of the target: the library would be mixed into it (and updates would keep rewriting it)`, `use a directory of its own, e.g. /library/${l.dest.split('/').pop()}`));
      return;
    }
    const volatile = VOLATILE_TREES.find((t) => within(l.dest, t));
    if (volatile) {
      out.push(err(site, at, `library destination ${l.dest} is under ${volatile}, which the running system mounts over: the content would never be seen`, 'use a directory on disk, e.g. /library/content'));
      return;
    }
    const media = owned.find((t) => within(l.dest, t) || within(t, l.dest));
    if (media) {
      out.push(err(site, at, `library destination ${l.dest} overlaps ${media} on the install media, which the base or xsbuild writes`, 'use a directory of its own, e.g. /library/content'));
      return;
    }
    const nest = seen.find((s) => within(l.dest, s.dest) || within(s.dest, l.dest));
    if (nest) {
      out.push(err(site, at, nest.dest === l.dest ? `library destination ${l.dest} is used twice (also library[${nest.i}])` : `library destination ${l.dest} overlaps library[${nest.i}] (${nest.dest}): one library would write into the other`, 'give each library a directory of its own, side by side'));
      return;
    }
    seen.push({ dest: l.dest, i });
  });
  return out;
}

/**
 * Kernel arguments xsbuild writes itself: where the kickstart and the installer's stage 2
 * are (media label or install server) and which NIC booted (netboot). A second copy in
 * `boot.extraArgs` would win or lose depending on the boot loader and the installer.
 */
const OWNED_ARGS: { re: RegExp; what: string }[] = [
  { re: /^(inst\.)?ks(=|$)/, what: 'the kickstart location (set for every entry from the volume id, or the install server when netbooting)' },
  { re: /^(inst\.)?stage2(=|$)/, what: "the installer's stage 2 location (the media label, or the install server)" },
  { re: /^(inst\.)?repo(=|$)/, what: 'the installation source (the media, or the install server)' },
  { re: /^BOOTIF=/i, what: 'the NIC that netbooted (iPXE and GRUB set it from the booting NIC)' },
  { re: /^rd\.live\.check$/, what: 'the media check (the "Test this media" entry adds it)' },
];

function bootArgRules(site: LoadedSite): InputError[] {
  const out: InputError[] = [];
  (site.data.boot?.extraArgs ?? []).forEach((arg, i) => {
    const owned = OWNED_ARGS.find((o) => o.re.test(arg));
    if (owned) {
      out.push(err(site, ['boot', 'extraArgs', i], `kernel argument "${arg.length > 60 ? `${arg.slice(0, 60)}…` : arg}" is set by xsbuild itself: ${owned.what}`, 'remove it from boot.extraArgs; xsbuild sets it on every boot entry'));
    }
  });
  return out;
}

/** Timezone, keyboard and language the installer would refuse at install time. */
function installerValueRules(site: LoadedSite, opts: SiteCheckOptions): InputError[] {
  const out: InputError[] = [];
  const ks = site.data.kickstart;
  const dir = opts.zoneinfoDir ?? SYSTEM_ZONEINFO;
  const source: ZoneSource = zoneSource(dir);
  if (!isKnownZone(ks.timezone, source, dir)) {
    const near = closest(ks.timezone, zoneNames(source), 3, true);
    const db = source === 'zoneinfo' ? `the zone database (${dir})` : "Node's ICU zone list (no zone database on this host)";
    out.push(err(site, ['kickstart', 'timezone'], `time zone "${short(ks.timezone)}" is not in ${db}; the installer would stop on it`, near.length ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}? Names are spelt exactly, e.g. America/Argentina/La_Rioja` : 'use an IANA name spelt exactly, e.g. America/Argentina/La_Rioja or UTC (timedatectl list-timezones)'));
  }
  const keyboards = shippedList('keyboards');
  if (!keyboards.has(ks.keyboard)) {
    const near = closest(ks.keyboard, keyboards);
    out.push(err(site, ['kickstart', 'keyboard'], `keyboard "${short(ks.keyboard)}" is not an X layout or console keymap the installer knows`, `${near.length ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}? ` : ''}see builder/validate/data/keyboards.txt, e.g. "us", "es", "latam"`));
  }
  const languages = shippedList('languages');
  const lang = ks.lang.replace(/\.UTF-8$/, '');
  if (!languages.has(lang)) {
    const near = closest(lang, languages);
    out.push(err(site, ['kickstart', 'lang'], `language "${short(ks.lang)}" is not a locale glibc can build; the installer would refuse it`, `${near.length ? `did you mean ${near.map((n) => `"${n}.UTF-8"`).join(', ')}? ` : ''}see builder/validate/data/languages.txt, e.g. "es_AR.UTF-8"`));
  }
  return out;
}

const short = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);
