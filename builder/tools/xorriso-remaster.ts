// xorriso for installer bases. An ISO base is remastered, not rebuilt: `-indev` loads
// its tree, `-boot_image any replay` keeps its El Torito entries, hybrid MBR/GPT and
// appended partitions, and only the files we change or add are mapped in. A tree base
// gets the boot setup lorax gives a DVD (isolinux BIOS, efiboot.img UEFI, isohybrid).
import path from 'node:path';
import { run } from './exec.js';
import { PACIFIER, type Graft } from './xorriso.js';

export interface BootReport {
  /** ISO path of the BIOS boot image, when it is a file in the tree. */
  biosImage?: string;
  /** The BIOS image gets a boot-info-table (isolinux) or GRUB2 boot info patched in. */
  biosPatched: boolean;
  catalog?: string;
  /** ISO path of the EFI El Torito image, when it is a file in the tree. */
  efiImage?: string;
  /** Appended partitions: number, type, and where they are in the image (bytes). */
  appended: { n: number; type: string; offset: number; size: number }[];
  /** The EFI El Torito image is appended partition n. */
  efiPartition?: number;
  raw: string;
}

const unquote = (s: string) => s.replace(/^'(.*)'$/, '$1');

/** What a base ISO's boot setup is, read with -report_el_torito as_mkisofs. */
export async function bootReport(iso: string): Promise<BootReport> {
  // xorriso exits non-zero on boot records it would not write back the same way (a SORRY
  // it tolerates); the report it prints is still complete for what it read.
  const { stdout } = await run('xorriso', ['-no_rc', '-indev', iso, '-report_el_torito', 'as_mkisofs'], { allowFailure: true });
  const lines = stdout.split('\n').map((l) => l.trim());
  const r: BootReport = { biosPatched: false, appended: [], raw: stdout };
  let platform: 'bios' | 'efi' = 'bios';
  for (const l of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^-c\s+(.+)$/.exec(l))) r.catalog = unquote(m[1]);
    else if ((m = /^-b\s+(.+)$/.exec(l))) {
      r.biosImage = unquote(m[1]);
      platform = 'bios';
    } else if (/^(-boot-info-table|--grub2-boot-info)$/.test(l) && platform === 'bios') r.biosPatched = true;
    else if ((m = /^-e\s+(.+)$/.exec(l))) {
      platform = 'efi';
      const v = unquote(m[1]);
      const ap = /^--interval:appended_partition_(\d+)/.exec(v);
      if (ap) r.efiPartition = Number(ap[1]);
      else if (v.startsWith('/')) r.efiImage = v;
    } else if ((m = /^-append_partition\s+(\d+)\s+(\S+)\s+--interval:local_fs:(\d+)d-(\d+)d::/.exec(l))) {
      const start = Number(m[3]);
      const end = Number(m[4]);
      r.appended.push({ n: Number(m[1]), type: m[2], offset: start * 512, size: (end - start + 1) * 512 });
    }
  }
  // A hidden catalog (--boot-catalog-hide) is no file in the tree.
  if (lines.includes('--boot-catalog-hide')) r.catalog = undefined;
  return r;
}

export interface RemasterInput {
  output: string;
  volumeId: string;
  epoch: number;
  grafts: Graft[];
  /** Remaster this ISO, keeping its boot setup. */
  indev?: string;
  /** Or master this directory (an exploded tree) at the root, grafts on top. */
  treeRoot?: string;
  /** Replace appended partitions (an edited ESP); `efi` makes it the EFI boot image too. */
  appendPartitions?: { n: number; type: string; image: string; efi: boolean }[];
  /** Without indev: the lorax-style boot setup. */
  boot?: { biosImage: string; catalog: string; hybridMbr: string; efiImage: string };
  onProgress?: (percent: number) => void;
}

export function remasterArgs(i: RemasterInput): string[] {
  // UTF-8 names whatever the locale (see masterIsoArgs).
  const a = ['-no_rc', '-local_charset', 'UTF-8', '-report_about', 'UPDATE', ...PACIFIER];
  if (i.indev) a.push('-indev', i.indev);
  a.push('-outdev', i.output);
  if (i.indev) a.push('-boot_image', 'any', 'replay');
  for (const p of i.appendPartitions ?? []) {
    a.push('-append_partition', String(p.n), p.type, p.image);
    if (p.efi) a.push('-boot_image', 'any', `efi_path=--interval:appended_partition_${p.n}:all::`);
  }
  // Joliet as lorax writes it; level 3 so files over 4 GiB (library content) work.
  a.push('-volid', i.volumeId, '-joliet', 'on', '-compliance', 'iso_9660_level=3:joliet_long_names');
  if (i.treeRoot) a.push('-map', i.treeRoot, '/');
  for (const g of i.grafts) a.push('-map', g.source, g.isoPath);
  if (i.boot) {
    const b = i.boot;
    a.push(
      '-boot_image', 'isolinux', `bin_path=${b.biosImage}`,
      '-boot_image', 'isolinux', `cat_path=${b.catalog}`,
      '-boot_image', 'isolinux', 'load_size=2048',
      '-boot_image', 'isolinux', 'boot_info_table=on',
      '-boot_image', 'isolinux', `system_area=${b.hybridMbr}`,
      '-boot_image', 'isolinux', 'partition_table=on',
      '-boot_image', 'any', 'next',
      '-boot_image', 'any', `efi_path=${b.efiImage}`,
      '-boot_image', 'isolinux', 'partition_entry=gpt_basdat',
    );
  }
  // What we add must not depend on the builder's umask or user: owner root, readable by
  // all, writable by none but the owner, as Rock Ridge on an installer DVD has it.
  if (i.treeRoot) {
    a.push('-chown_r', '0', '/', '--', '-chgrp_r', '0', '/', '--', '-chmod_r', 'a+r,go-w', '/', '--');
    a.push('-find', '/', '-type', 'd', '-exec', 'chmod', 'a+x', '--');
  }
  const added = i.treeRoot ? [] : [...new Set(i.grafts.flatMap((g) => [g.isoPath, ...parents(g.isoPath)]))].sort();
  if (added.length) {
    a.push('-chown', '0', ...added, '--', '-chgrp', '0', ...added, '--', '-chmod', 'a+r,go-w', ...added, '--');
    const dirs = added.filter((p) => i.grafts.every((g) => g.isoPath !== p));
    if (dirs.length) a.push('-chmod', 'a+x', ...dirs, '--');
  }
  // SOURCE_DATE_EPOCH fixes volume dates and UUIDs; file dates are clamped here.
  a.push('-alter_date_r', 'b', `=${i.epoch}`, '/', '--', '-commit');
  return a;
}

function parents(p: string): string[] {
  const out: string[] = [];
  for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) out.push(d);
  return out;
}
