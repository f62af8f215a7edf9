// The room: what each machine (by MAC) has fetched and reported, in order. Fed by the
// HTTP server's requests; read by the live table, the status page and /status.json.
// Anyone on the install network can send requests, so the room is bounded: the site's
// machines plus at most MAX_UNKNOWN others, the last MAX_ERRORS errors of each, messages
// of at most MAX_MESSAGE characters with control characters removed (they reach the
// operator's terminal: no escape codes, no window titles).
import type { NetbootManifest } from '../netboot/manifest.js';

export type Step = 'boot' | 'kernel' | 'initrd' | 'kickstart' | 'done';
export const STEPS: Step[] = ['boot', 'kernel', 'initrd', 'kickstart', 'done'];

export interface MachineStatus {
  /** 52-54-00-aa-bb-01 */
  id: string;
  mac: string;
  hostname: string | null;
  known: boolean;
  ip: string | null;
  /** ISO times of each step, null until reached. */
  steps: Record<Step, string | null>;
  refused: string | null;
  state: 'waiting' | 'booting' | 'installing' | 'done' | 'refused' | 'error';
  bytes: number;
  requests: number;
  /** The last MAX_ERRORS errors; errorCount counts them all. */
  errors: { at: string; message: string }[];
  errorCount: number;
  lastSeen: string | null;
}

/** Text from the network made safe to print: escape sequences and control characters removed, length capped. */
export function printable(s: string, max = MAX_MESSAGE): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-_])/g, '').replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export const MAX_UNKNOWN = 256;
export const MAX_ERRORS = 20;
export const MAX_MESSAGE = 200;
/** Client addresses remembered for requests without a MAC (bounded like the machines). */
const MAX_IPS = 4096;

const MAC_ID = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/;

export function isMacId(s: string | null | undefined): s is string {
  return !!s && MAC_ID.test(s);
}

export class Room {
  readonly machines = new Map<string, MachineStatus>();
  private byIp = new Map<string, string>();
  private listeners = new Set<(m: MachineStatus, what: string) => void>();
  private kernel: string;
  private initrds: string[];
  private ks = new Map<string, string>();

  constructor(readonly manifest: NetbootManifest, private now: () => Date = () => new Date()) {
    this.kernel = manifest.kernel;
    this.initrds = manifest.initrds;
    for (const m of manifest.machines) {
      this.machines.set(m.id, blank(m.id, m.hostname, true));
      this.ks.set(m.kickstart, m.id);
    }
  }

  onChange(f: (m: MachineStatus, what: string) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private unknown = 0;
  /** Requests and reports from machines not admitted because the room was full. */
  turnedAway = 0;

  /** A machine's record; a new unknown one only while there is room for it. */
  private get(id: string): MachineStatus | undefined {
    let m = this.machines.get(id);
    if (!m) {
      if (this.unknown >= MAX_UNKNOWN) {
        this.turnedAway++;
        return undefined;
      }
      this.unknown++;
      m = blank(id, null, false);
      this.machines.set(id, m);
    }
    return m;
  }

  private remember(ip: string, id: string) {
    if (this.byIp.size >= MAX_IPS && !this.byIp.has(ip)) this.byIp.clear();
    this.byIp.set(ip, id);
  }

  private addError(m: MachineStatus, at: string, message: string) {
    m.errors.push({ at, message: printable(message) });
    m.errorCount++;
    if (m.errors.length > MAX_ERRORS) m.errors.splice(0, m.errors.length - MAX_ERRORS);
  }

  /**
   * Whether a report for this MAC is believed: the site lists the machine, or it is an
   * unknown machine this server saw boot (it fetched the kernel or an initrd with its MAC).
   */
  mayReport(id: string): boolean {
    const m = this.machines.get(id);
    return !!m && (m.known || !!m.steps.kernel || !!m.steps.initrd);
  }

  private emit(m: MachineStatus, what: string) {
    for (const f of this.listeners) f(m, what);
  }

  /** Which machine a request is from: ?mac=, a per-machine path, or the client's last MAC. */
  identify(rel: string, query: URLSearchParams, ip: string): string | undefined {
    const q = query.get('mac')?.toLowerCase();
    let id = isMacId(q) ? q : undefined;
    const pm = /^(?:machines|grub\/machines|ks)\/([0-9a-f-]{17})\.(?:ipxe|cfg)$/.exec(rel);
    if (!id && pm && isMacId(pm[1])) id = pm[1];
    if (id) {
      this.remember(ip, id);
      return id;
    }
    return this.byIp.get(ip);
  }

  /** A served (or failed) request. */
  request(rel: string, query: URLSearchParams, ip: string, status: number, bytes: number, reason?: string): void {
    const id = this.identify(rel, query, ip);
    if (!id) return;
    const m = this.get(id);
    if (!m) return;
    const t = this.now().toISOString();
    m.ip = ip;
    m.lastSeen = t;
    m.requests++;
    m.bytes += bytes;
    if (status >= 400) {
      // A machine without a record asks for its script: that is how unknown machines look.
      if (/^(machines|grub\/machines)\//.test(rel) && status === 404) return;
      this.addError(m, t, `${status} /${rel}${reason ? ` (${reason})` : ''}`);
      this.update(m, 'error');
      return;
    }
    const step = this.step(rel, m);
    if (step && !m.steps[step]) {
      m.steps[step] = t;
      this.update(m, step);
    }
  }

  private step(rel: string, m: MachineStatus): Step | undefined {
    if (rel === this.manifest.entry.ipxe || rel === this.manifest.entry.grub || /^(machines|grub\/machines)\//.test(rel)) return 'boot';
    if (rel === this.kernel) return 'kernel';
    if (this.initrds.includes(rel)) return 'initrd';
    if (this.ks.get(rel) === m.id || (rel === this.manifest.default?.kickstart && !m.known)) return 'kickstart';
    return undefined;
  }

  /** The installer's (or iPXE's) report: done, error or refused; undefined when the room is full. */
  report(id: string, status: string, ip: string, message?: string): MachineStatus | undefined {
    const m = this.get(id);
    if (!m) return undefined;
    const t = this.now().toISOString();
    m.ip = ip;
    m.lastSeen = t;
    this.remember(ip, id);
    if (status === 'done') m.steps.done = t;
    else if (status === 'refused') m.refused = t;
    else this.addError(m, t, `installer reported ${status}${message ? `: ${message}` : ''}`);
    this.update(m, status);
    return m;
  }

  private update(m: MachineStatus, what: string) {
    m.state = m.steps.done
      ? 'done'
      : m.refused
        ? 'refused'
        : m.errors.length > 0 && what === 'error'
          ? 'error'
          : m.steps.kickstart
            ? 'installing'
            : m.steps.boot || m.steps.kernel || m.steps.initrd
              ? 'booting'
              : m.errors.length > 0
                ? 'error'
                : 'waiting';
    this.emit(m, what);
  }

  snapshot(): { site: string; release: string; machines: MachineStatus[]; summary: Record<string, number> } {
    const machines = [...this.machines.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const summary: Record<string, number> = { total: machines.length };
    if (this.turnedAway) summary.turnedAway = this.turnedAway;
    for (const m of machines) summary[m.state] = (summary[m.state] ?? 0) + 1;
    return { site: this.manifest.site, release: this.manifest.release, machines, summary };
  }
}

function blank(id: string, hostname: string | null, known: boolean): MachineStatus {
  return {
    id,
    mac: id.replace(/-/g, ':'),
    hostname,
    known,
    ip: null,
    steps: { boot: null, kernel: null, initrd: null, kickstart: null, done: null },
    refused: null,
    state: 'waiting',
    bytes: 0,
    requests: 0,
    errors: [],
    errorCount: 0,
    lastSeen: null,
  };
}
