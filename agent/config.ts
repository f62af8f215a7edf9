// The agent's config file (default /etc/xs-agent/config.json), written into the image by
// the agent layer from the site YAML and machine record. Validation errors name the file
// and the field, and say what a good value looks like; see agent/README.md.
import { parseMac } from './mac.js';

export const DEFAULT_CONFIG_PATH = '/etc/xs-agent/config.json';

export type RoleMatch = { kind: 'mac'; mac: string } | { kind: 'bootif' } | { kind: 'other' };

export interface RoleConfig {
  /** Role name: "wan", "lan", ... */
  name: string;
  /** Interface name given to the NIC; "<name>0" unless set. Never ethN. */
  ifname: string;
  match: RoleMatch;
  /** IPv4 for the NetworkManager/ifcfg profile: "dhcp" or a static "address/prefix". */
  ipv4: { method: 'dhcp' } | { method: 'static'; address: string; prefix: number; gateway?: string };
}

export interface LibraryConfig {
  /** Directory (install media) or http(s) URL the manifest's paths are relative to. */
  source: string;
  /** Manifest location relative to source, or an absolute path / URL. */
  manifest: string;
  /** Only manifest files under this path are library content. */
  prefix: string;
  /** Target directory the prefix maps to. */
  dest: string;
}

export interface TimeoutsConfig {
  nics: number;
  hostname: number;
  library: number;
  report: number;
}

export interface AgentConfig {
  site: string;
  release: string;
  hostname?: string;
  domain?: string;
  roles: RoleConfig[];
  library?: LibraryConfig;
  report?: { url: string };
  /** The central office's fleet service: enrolment and pull reports go to `url`. */
  fleet?: FleetConfig;
  timeouts: TimeoutsConfig;
}

export interface FleetConfig {
  /** Base URL, ending in "/": `${url}v1/enrol`, `${url}v1/report`. */
  url: string;
  /** The office's Ed25519 public key (base64 of 32 bytes): it signs approvals. */
  publicKey: string;
}

export const DEFAULT_TIMEOUTS: TimeoutsConfig = { nics: 90, hostname: 15, library: 3600, report: 10 };

export class ConfigError extends Error {
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
  }
}

const ROLE_NAME = /^[a-z][a-z0-9]{0,11}$/;
const IFNAME = /^[a-z][a-z0-9_-]{0,14}$/;
// RFC 1123 label; a template may use {mac:ROLE}, checked after substitution.
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parse config text. `file` is only used in messages. */
export function parseConfig(text: string, file: string): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, '', `not valid JSON: ${jsonErrorWhere(text, e as Error)}`);
  }
  const v = new Validator(file);
  const obj = v.object(raw, '');
  v.known(obj, '', ['site', 'release', 'hostname', 'domain', 'roles', 'library', 'report', 'fleet', 'timeouts', 'updates']);
  const cfg: AgentConfig = {
    site: v.string(obj.site, 'site'),
    release: v.string(obj.release, 'release'),
    roles: [],
    timeouts: { ...DEFAULT_TIMEOUTS },
  };
  // An empty string means "not set": templates render absent values that way.
  if (obj.hostname !== undefined && obj.hostname !== '') {
    const h = v.string(obj.hostname, 'hostname').toLowerCase();
    const probe = h.replace(/\{mac:[a-z][a-z0-9]*\}/g, 'a');
    if (!HOST_LABEL.test(probe)) {
      throw new ConfigError(file, 'hostname', `"${h}" is not a host name (one label: letters, digits, hyphens, max 63; use "domain" for the rest; "{mac:ROLE}" inserts a NIC's MAC)`);
    }
    cfg.hostname = h;
  }
  if (obj.domain !== undefined && obj.domain !== '') {
    const d = v.string(obj.domain, 'domain').toLowerCase();
    if (!DOMAIN.test(d)) throw new ConfigError(file, 'domain', `"${d}" is not a DNS domain (e.g. "rioja.example.org")`);
    cfg.domain = d;
  }
  if (obj.roles !== undefined) {
    const roles = v.array(obj.roles, 'roles');
    roles.forEach((r, i) => cfg.roles.push(parseRole(v, r, `roles[${i}]`)));
    checkRoleSet(file, cfg.roles);
  }
  if (obj.library !== undefined) {
    const l = v.object(obj.library, 'library');
    v.known(l, 'library', ['source', 'manifest', 'prefix', 'dest']);
    const dest = v.string(l.dest, 'library.dest');
    if (!dest.startsWith('/')) throw new ConfigError(file, 'library.dest', `"${dest}" must be an absolute path on the target (e.g. "/library")`);
    const prefix = l.prefix === undefined ? '/library' : v.string(l.prefix, 'library.prefix');
    if (!prefix.startsWith('/')) throw new ConfigError(file, 'library.prefix', `"${prefix}" must start with "/" (a path on the install media)`);
    cfg.library = {
      source: v.string(l.source, 'library.source'),
      manifest: l.manifest === undefined ? 'manifest.json' : v.string(l.manifest, 'library.manifest'),
      prefix: prefix.replace(/\/+$/, '') || '/',
      dest,
    };
  }
  if (obj.report !== undefined) {
    const r = v.object(obj.report, 'report');
    v.known(r, 'report', ['url']);
    const url = v.string(r.url, 'report.url');
    if (!/^https?:\/\//.test(url)) throw new ConfigError(file, 'report.url', 'must be an http:// or https:// URL');
    cfg.report = { url };
  }
  if (obj.fleet !== undefined) cfg.fleet = parseFleet(v, obj.fleet);
  if (obj.updates !== undefined) {
    // Read by the follow-up update service, not by firstboot; checked for shape only.
    const u = v.object(obj.updates, 'updates');
    v.known(u, 'updates', ['url', 'publicKey']);
    if (u.url !== undefined) v.string(u.url, 'updates.url');
    if (u.publicKey !== undefined) v.string(u.publicKey, 'updates.publicKey');
  }
  if (obj.timeouts !== undefined) {
    const t = v.object(obj.timeouts, 'timeouts');
    v.known(t, 'timeouts', Object.keys(DEFAULT_TIMEOUTS));
    for (const k of Object.keys(t) as (keyof TimeoutsConfig)[]) {
      const n = t[k];
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
        throw new ConfigError(file, `timeouts.${k}`, 'must be a positive number of seconds');
      }
      cfg.timeouts[k] = n;
    }
  }
  return cfg;
}

function parseFleet(v: Validator, raw: unknown): FleetConfig {
  const f = v.object(raw, 'fleet');
  v.known(f, 'fleet', ['url', 'publicKey']);
  const url = v.string(f.url, 'fleet.url');
  if (!/^https?:\/\/[^/\s]+(\/[^\s]*)?\/$/.test(url)) {
    throw new ConfigError(v.file, 'fleet.url', `"${url}" must be an http:// or https:// URL ending in "/" (e.g. "https://office.example.org/fleet/")`);
  }
  const publicKey = v.string(f.publicKey, 'fleet.publicKey');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(publicKey) || Buffer.from(publicKey, 'base64').length !== 32) {
    throw new ConfigError(v.file, 'fleet.publicKey', `"${publicKey.slice(0, 60)}" is not an Ed25519 public key (base64 of 32 bytes, the office key's .pub line)`);
  }
  return { url, publicKey };
}

function parseRole(v: Validator, raw: unknown, at: string): RoleConfig {
  const file = v.file;
  const r = v.object(raw, at);
  v.known(r, at, ['name', 'ifname', 'mac', 'bootif', 'other', 'ipv4']);
  const name = v.string(r.name, `${at}.name`);
  if (!ROLE_NAME.test(name)) throw new ConfigError(file, `${at}.name`, `"${name}" is not a role name (lower-case letters and digits, starting with a letter, max 12: "wan", "lan")`);
  const ifname = r.ifname === undefined ? `${name}0` : v.string(r.ifname, `${at}.ifname`);
  if (!IFNAME.test(ifname)) throw new ConfigError(file, `${at}.ifname`, `"${ifname}" is not an interface name (max 15 characters: a-z, 0-9, "_", "-")`);
  // The kernel hands out ethN itself; renaming into that namespace races with it.
  if (/^eth\d+$/.test(ifname)) throw new ConfigError(file, `${at}.ifname`, `"${ifname}" is in the kernel's ethN namespace; pick a role name such as "${name}0"`);
  const ways = (['mac', 'bootif', 'other'] as const).filter((k) => r[k] !== undefined && r[k] !== false);
  if (ways.length !== 1) {
    throw new ConfigError(file, at, `give exactly one of "mac": "52:54:00:12:34:56", "bootif": true, "other": true (found ${ways.length ? ways.join(', ') : 'none'})`);
  }
  let match: RoleMatch;
  if (ways[0] === 'mac') {
    const s = v.string(r.mac, `${at}.mac`);
    const mac = parseMac(s);
    if (!mac) throw new ConfigError(file, `${at}.mac`, `"${s}" is not a MAC address (six hex pairs, e.g. "52:54:00:12:34:56")`);
    match = { kind: 'mac', mac };
  } else {
    if (r[ways[0]] !== true) throw new ConfigError(file, `${at}.${ways[0]}`, 'must be true');
    match = { kind: ways[0] };
  }
  let ipv4: RoleConfig['ipv4'] = { method: 'dhcp' };
  if (r.ipv4 !== undefined) {
    const s = v.string(r.ipv4, `${at}.ipv4`);
    if (s !== 'dhcp') {
      const [addrPart, gw] = s.split(/\s+via\s+/);
      const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(addrPart ?? '');
      if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32 || (gw !== undefined && !isIPv4(gw))) {
        throw new ConfigError(file, `${at}.ipv4`, `"${s}" is not "dhcp" or "ADDRESS/PREFIX [via GATEWAY]" (e.g. "172.18.96.1/19")`);
      }
      ipv4 = { method: 'static', address: m[1]!, prefix: Number(m[2]), ...(gw ? { gateway: gw } : {}) };
    }
  }
  return { name, ifname, match, ipv4 };
}

function checkRoleSet(file: string, roles: RoleConfig[]): void {
  const seen = new Map<string, number>();
  const seenIf = new Map<string, number>();
  const seenMac = new Map<string, number>();
  roles.forEach((r, i) => {
    if (seen.has(r.name)) throw new ConfigError(file, `roles[${i}].name`, `role "${r.name}" already defined at roles[${seen.get(r.name)}]`);
    seen.set(r.name, i);
    if (seenIf.has(r.ifname)) throw new ConfigError(file, `roles[${i}].ifname`, `"${r.ifname}" already used by roles[${seenIf.get(r.ifname)}]`);
    seenIf.set(r.ifname, i);
    if (r.match.kind === 'mac') {
      if (seenMac.has(r.match.mac)) throw new ConfigError(file, `roles[${i}].mac`, `${r.match.mac} is already the MAC of roles[${seenMac.get(r.match.mac)}]; one NIC cannot have two roles`);
      seenMac.set(r.match.mac, i);
    }
  });
  for (const kind of ['bootif', 'other'] as const) {
    const idx = roles.map((r, i) => (r.match.kind === kind ? i : -1)).filter((i) => i >= 0);
    if (idx.length > 1) {
      throw new ConfigError(file, `roles[${idx[1]}].${kind}`, `only one role can be "${kind}" (also roles[${idx[0]}]); give the others an explicit "mac"`);
    }
  }
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** "line L, column C" for a JSON.parse error, so the message points into the file. */
function jsonErrorWhere(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m) return e.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${e.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${col}`;
}

class Validator {
  constructor(readonly file: string) {}
  object(x: unknown, at: string): Record<string, unknown> {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ConfigError(this.file, at, 'must be a JSON object');
    return x as Record<string, unknown>;
  }
  array(x: unknown, at: string): unknown[] {
    if (!Array.isArray(x)) throw new ConfigError(this.file, at, 'must be a JSON array');
    return x;
  }
  string(x: unknown, at: string): string {
    if (typeof x !== 'string' || x.length === 0) throw new ConfigError(this.file, at, x === undefined ? 'is required (a non-empty string)' : 'must be a non-empty string');
    return x;
  }
  known(o: Record<string, unknown>, at: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) throw new ConfigError(this.file, at ? `${at}.${k}` : k, `unknown field (known: ${keys.join(', ')})`);
    }
  }
}
