// Kernel command line parsing: only what the agent needs (BOOTIF).
import { parseMac } from './mac.js';

/** Split /proc/cmdline the way the kernel does: spaces, with double quotes grouping. */
export function splitCmdline(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

export type BootIf = { mac: string } | { error: string } | null;

/**
 * The MAC in BOOTIF= (pxelinux and iPXE write "01-52-54-00-aa-bb-01": ARP type 1,
 * Ethernet, then the address). The last BOOTIF= wins, as the kernel's own parameters do.
 */
export function parseBootIf(cmdline: string): BootIf {
  const values = splitCmdline(cmdline).filter((t) => t.startsWith('BOOTIF=')).map((t) => t.slice(7));
  if (values.length === 0) return null;
  const v = values[values.length - 1]!;
  const hyph = v.split(/[-:]/);
  const mac = hyph.length === 7 && hyph[0] === '01' ? parseMac(hyph.slice(1).join(':')) : parseMac(v);
  return mac ? { mac } : { error: `BOOTIF="${v}" on the kernel command line is not a MAC (want 01-xx-xx-xx-xx-xx-xx)` };
}
