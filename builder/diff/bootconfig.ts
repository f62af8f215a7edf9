// Boot entries read from the boot loader configs on the media. Used when a release has
// no manifest (an upstream installer ISO, an old release), so kernel arguments can still
// be compared entry by entry.
import type { BootEntry } from '../manifest-types.js';

/** Config files worth reading, by name, wherever they sit on the media. */
export function isBootConfig(path: string): boolean {
  return /\/(isolinux|syslinux|extlinux)\.cfg$/i.test(path) || /\/grub\.cfg$/i.test(path);
}

/** Split a command line into words, honouring single and double quotes as grub does. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let have = false;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      have = true;
    } else if (/\s/.test(c)) {
      if (have || cur) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
    }
  }
  if (have || cur) out.push(cur);
  return out;
}

/** isolinux/syslinux: LABEL blocks with KERNEL/LINUX, APPEND (initrd= inside) and INITRD. */
export function parseSyslinux(text: string, config: string): BootEntry[] {
  const out: BootEntry[] = [];
  let cur: BootEntry | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [kw, ...rest] = line.split(/\s+/);
    const key = kw.toLowerCase();
    const value = line.slice(kw.length).trim();
    if (key === 'label') {
      cur = { config, label: value, kernel: '', initrd: [], args: [] };
      out.push(cur);
    } else if (!cur) {
      continue;
    } else if (key === 'kernel' || key === 'linux') {
      cur.kernel = rest[0] ?? '';
    } else if (key === 'initrd') {
      cur.initrd.push(...value.split(',').filter(Boolean));
    } else if (key === 'append') {
      for (const a of splitArgs(value)) {
        if (a.startsWith('initrd=')) cur.initrd.push(...a.slice(7).split(',').filter(Boolean));
        else cur.args.push(a);
      }
    }
  }
  // Menu separators and "local boot" entries have no kernel: nothing to compare.
  return out.filter((e) => e.kernel);
}

/** grub: menuentry 'Title' { linux K args; initrd I... } (also linuxefi/initrdefi). */
export function parseGrub(text: string, config: string): BootEntry[] {
  const out: BootEntry[] = [];
  let cur: BootEntry | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const words = splitArgs(line);
    const key = words[0];
    if (key === 'menuentry') {
      cur = { config, label: words[1] ?? '', kernel: '', initrd: [], args: [] };
      out.push(cur);
    } else if (!cur) {
      continue;
    } else if (key === 'linux' || key === 'linuxefi' || key === 'linux16') {
      cur.kernel = words[1] ?? '';
      cur.args = words.slice(2);
    } else if (key === 'initrd' || key === 'initrdefi' || key === 'initrd16') {
      cur.initrd.push(...words.slice(1));
    } else if (key === '}') {
      cur = null;
    }
  }
  return out.filter((e) => e.kernel);
}

/** Entries from one config file; `path` is its absolute path on the media. */
export function parseBootConfig(path: string, text: string): BootEntry[] {
  const config = path.replace(/^\//, '');
  return /grub\.cfg$/i.test(path) ? parseGrub(text, config) : parseSyslinux(text, config);
}

/** The kickstart path on the media named by inst.ks= / ks= (hd:LABEL=X:/ks.cfg, cdrom:/ks.cfg). */
export function kickstartFromArgs(entries: BootEntry[]): string | null {
  for (const e of entries) {
    for (const a of e.args) {
      const m = /^(?:inst\.)?ks=(.*)$/.exec(a);
      if (!m) continue;
      const v = m[1];
      if (/^(https?|ftp|nfs):/.test(v)) continue;
      const slash = v.lastIndexOf(':/');
      if (slash >= 0) return v.slice(slash + 1);
      if (v.startsWith('/')) return v;
    }
  }
  return null;
}
