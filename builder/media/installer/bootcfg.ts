// Edit an installer's boot loader configs in place, line by line: every Linux entry (in
// submenus too, default or not) gets the same added kernel arguments and the site's
// initrd overlay, kickstart arguments the base had are dropped, the volume label is
// replaced, and every other line stays byte for byte as it was. Also reads the entries
// back for the manifest.
import path from 'node:path';
import type { BootEntrySpec } from '../../render.js';
import { replaceLabel } from './labels.js';
import { argWords, rewriteArgText } from './kargs.js';

export interface EditOptions {
  /** ISO path of the config ("/isolinux/isolinux.cfg"), to resolve relative paths. */
  configPath: string;
  oldLabel: string;
  newLabel: string;
  /** Arguments every entry must carry (inst.ks=..., the site's extra arguments). */
  addArgs: string[];
  /** Initrd appended to every entry (the site's overlay), absolute ISO path. */
  addInitrd?: string;
}

export interface EditedConfig {
  text: string;
  entries: BootEntrySpec[];
}

const LINES = /\r?\n/;

function splitLines(text: string): { lines: string[]; eol: string } {
  return { lines: text.split(LINES), eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

// ---- syslinux / isolinux --------------------------------------------------------------

interface SysBlock {
  label: string;
  title?: string;
  kernel?: { line: number; value: string };
  append?: number;
  initrdLine?: number;
}

const SYS_KERNEL = /^(\s*)(kernel|linux)\s+(\S+)/i;
const SYS_APPEND = /^(\s*append)(\s+.*)?$/i;
const SYS_INITRD = /^(\s*initrd\s+)(\S+)(.*)$/i;

/** A block is a Linux entry when it loads an initrd or its kernel looks like one. */
function isLinux(b: SysBlock, lines: string[]): boolean {
  if (!b.kernel || /\.(c32|com|cbt|0|bin|bss)$/i.test(b.kernel.value)) return false;
  if (b.initrdLine !== undefined) return true;
  if (b.append !== undefined && /(^|\s)initrd=/.test(lines[b.append])) return true;
  return /vmlinuz|bzImage|linux/i.test(path.posix.basename(b.kernel.value));
}

function sysBlocks(lines: string[]): SysBlock[] {
  const blocks: SysBlock[] = [];
  let cur: SysBlock | undefined;
  lines.forEach((raw, i) => {
    const l = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^label\s+(.+)$/i.exec(l))) {
      cur = { label: m[1].trim() };
      blocks.push(cur);
    } else if (/^menu\s+(begin|end)\b/i.test(l)) {
      cur = undefined;
    } else if (cur && (m = SYS_KERNEL.exec(raw))) {
      cur.kernel = { line: i, value: m[3] };
    } else if (cur && SYS_APPEND.test(raw)) {
      cur.append = i;
    } else if (cur && SYS_INITRD.test(raw)) {
      cur.initrdLine = i;
    } else if (cur && (m = /^menu\s+label\s+(.*)$/i.exec(l))) {
      cur.title = m[1].replace(/\^/g, '').trim();
    }
  });
  return blocks;
}

export function editSyslinux(text: string, o: EditOptions): EditedConfig {
  const { lines, eol } = splitLines(replaceLabel(text, o.oldLabel, o.newLabel));
  const blocks = sysBlocks(lines).filter((b) => isLinux(b, lines));
  const inserts: { after: number; line: string }[] = [];
  for (const b of blocks) {
    if (b.initrdLine !== undefined && o.addInitrd) {
      lines[b.initrdLine] = lines[b.initrdLine].replace(SYS_INITRD, (_, pre: string, v: string, rest: string) => `${pre}${addToList(v, o.addInitrd!)}${rest}`);
    }
    if (b.append !== undefined) {
      const m = SYS_APPEND.exec(lines[b.append])!;
      let args = m[2] ?? '';
      if (b.initrdLine === undefined && o.addInitrd) {
        args = /(^|\s)initrd=/.test(args)
          ? args.replace(/(^|\s)initrd=(\S+)/, (_, s: string, v: string) => `${s}initrd=${addToList(v, o.addInitrd!)}`)
          : rewriteArgText(args, [`initrd=${o.addInitrd}`]);
      }
      lines[b.append] = `${m[1]}${rewriteArgText(args, o.addArgs)}`;
    } else {
      const indent = SYS_KERNEL.exec(lines[b.kernel!.line])![1];
      const initrd = b.initrdLine === undefined && o.addInitrd ? [`initrd=${o.addInitrd}`] : [];
      inserts.push({ after: b.kernel!.line, line: `${indent}append ${[...initrd, ...o.addArgs].join(' ')}` });
    }
  }
  for (const ins of inserts.sort((a, b) => b.after - a.after)) lines.splice(ins.after + 1, 0, ins.line);
  const out = lines.join(eol);
  return { text: out, entries: syslinuxEntries(out, o.configPath) };
}

function addToList(list: string, item: string): string {
  return list.split(',').includes(item) ? list : `${list},${item}`;
}

/** The Linux entries of a syslinux config, with paths resolved against its directory. */
export function syslinuxEntries(text: string, configPath: string): BootEntrySpec[] {
  const { lines } = splitLines(text);
  const dir = path.posix.dirname(configPath);
  const abs = (p: string) => (p.startsWith('/') ? p : path.posix.join(dir, p));
  return sysBlocks(lines)
    .filter((b) => isLinux(b, lines))
    .map((b) => {
      const words = b.append !== undefined ? argWords(SYS_APPEND.exec(lines[b.append])![2] ?? '') : [];
      const initrdWord = words.find((w) => w.startsWith('initrd='));
      const initrdList = b.initrdLine !== undefined ? SYS_INITRD.exec(lines[b.initrdLine])![2] : initrdWord?.slice('initrd='.length);
      return {
        label: b.label,
        title: b.title ?? b.label,
        kernel: abs(b.kernel!.value),
        initrd: (initrdList ?? '').split(',').filter(Boolean).map(abs),
        args: words.filter((w) => !w.startsWith('initrd=')),
      };
    });
}

// ---- GRUB ------------------------------------------------------------------------------

const GRUB_LINUX = /^(\s*(?:linux|linuxefi|linux16)\s+)(\S+)(.*)$/;
const GRUB_INITRD = /^(\s*(?:initrd|initrdefi|initrd16)\s+)(.*?)(\s*)$/;

export function editGrub(text: string, o: EditOptions): EditedConfig {
  const { lines, eol } = splitLines(replaceLabel(text, o.oldLabel, o.newLabel));
  for (let i = 0; i < lines.length; i++) {
    let m: RegExpExecArray | null;
    if ((m = GRUB_LINUX.exec(lines[i]))) {
      lines[i] = `${m[1]}${m[2]}${rewriteArgText(m[3], o.addArgs)}`;
    } else if (o.addInitrd && (m = GRUB_INITRD.exec(lines[i]))) {
      const list = m[2].split(/\s+/);
      if (!list.includes(o.addInitrd)) lines[i] = `${m[1]}${m[2]} ${o.addInitrd}${m[3]}`;
    }
  }
  const out = lines.join(eol);
  return { text: out, entries: grubEntries(out) };
}

/** menuentry blocks (nested in submenus or not) that boot a Linux kernel. */
export function grubEntries(text: string): BootEntrySpec[] {
  const out: BootEntrySpec[] = [];
  let cur: (BootEntrySpec & { depth: number }) | undefined;
  let depth = 0;
  for (const raw of text.split(LINES)) {
    const l = raw.trim();
    const me = /^menuentry\s+(?:'([^']*)'|"([^"]*)"|(\S+))(.*)\{\s*$/.exec(l);
    if (me) {
      const title = me[1] ?? me[2] ?? me[3];
      const id = /--id[= ]\s*['"]?([^'"\s]+)/.exec(me[4])?.[1];
      cur = { label: id ?? title, title, kernel: '', initrd: [], args: [], depth };
    }
    let m: RegExpExecArray | null;
    if (cur && (m = GRUB_LINUX.exec(raw))) {
      cur.kernel = m[2];
      cur.args = argWords(m[3]);
    } else if (cur && (m = GRUB_INITRD.exec(raw))) {
      cur.initrd = m[2].split(/\s+/).filter(Boolean);
    }
    depth += (l.match(/\{/g)?.length ?? 0) - (l.match(/\}/g)?.length ?? 0);
    if (cur && depth <= cur.depth) {
      if (cur.kernel) out.push({ label: cur.label, title: cur.title, kernel: cur.kernel, initrd: cur.initrd, args: cur.args });
      cur = undefined;
    }
  }
  return out;
}
