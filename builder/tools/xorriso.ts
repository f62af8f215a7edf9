// The one wrapper around xorriso. It masters a hybrid ISO (isolinux for BIOS, an EFI
// El Torito image that doubles as a GPT partition for USB) from graft points, so large
// content is mapped from where it lives instead of being copied into a staging tree.
import { createHash } from 'node:crypto';
import { run, runToFile } from './exec.js';

export interface Graft {
  /** Absolute path inside the ISO. */
  isoPath: string;
  /** File or directory on disk. */
  source: string;
}

export interface MasterIsoInput {
  output: string;
  volumeId: string;
  epoch: number;
  grafts: Graft[];
  bios: { image: string; catalog: string; hybridMbr: string };
  efi: { image: string };
  onProgress?: (percent: number) => void;
}

/** In mkisofs graft-point syntax "=" and "\" separate and escape: escape them. */
function escapeGraft(p: string): string {
  return p.replace(/\\/g, '\\\\').replace(/=/g, '\\=');
}

export function masterIsoArgs(i: MasterIsoInput): string[] {
  const strip = (p: string) => p.replace(/^\//, '');
  return [
    '-no_rc',
    // File names are UTF-8 whatever the locale (tools run with LC_ALL=C): without this,
    // Joliet (what Windows reads) turns "música" into "m__sica".
    '-local_charset', 'UTF-8',
    '-report_about', 'UPDATE',
    '-as', 'mkisofs',
    '-iso-level', '3',
    '-full-iso9660-filenames',
    '-joliet', '-joliet-long',
    '-rational-rock',
    '-volid', i.volumeId,
    '-appid', 'XSBUILD',
    '-publisher', 'XSBUILD',
    '-preparer', 'XSBUILD',
    '-eltorito-boot', strip(i.bios.image),
    '-eltorito-catalog', strip(i.bios.catalog),
    '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-isohybrid-mbr', i.bios.hybridMbr,
    '-eltorito-alt-boot',
    '-e', strip(i.efi.image),
    '-no-emul-boot',
    '-isohybrid-gpt-basdat',
    '-output', i.output,
    '-graft-points',
    ...i.grafts.map((g) => `${escapeGraft(g.isoPath)}=${escapeGraft(g.source)}`),
    '--',
    // SOURCE_DATE_EPOCH fixes volume dates and UUIDs; the files keep their own mtimes
    // unless clamped here (atime/ctime then follow mtime, see xorriso(1)).
    '-alter_date_r', 'b', `=${i.epoch}`, '/', '--',
  ];
}

export async function masterIso(i: MasterIsoInput): Promise<void> {
  await runXorriso(masterIsoArgs(i), i.epoch, i.onProgress);
}

/**
 * The same image, written through a pipe: xorriso writes the ISO to its standard output
 * (byte-identical to writing the file itself: it is produced in one sequential pass) and
 * we hash it on the way to disk. Returns the image's sha256: no second read of a
 * library-sized file.
 */
export async function masterIsoHashed(i: MasterIsoInput): Promise<{ args: string[]; sha256: string }> {
  const fileArgs = masterIsoArgs(i);
  const at = fileArgs.indexOf('-output');
  // Standard output must be named before any other argument (xorriso's "start argument").
  const args = ['-outdev', '-', ...fileArgs.slice(0, at), ...fileArgs.slice(at + 2)];
  const h = createHash('sha256');
  await runToFile('xorriso', args, i.output, (c) => h.update(c), { env: { SOURCE_DATE_EPOCH: String(i.epoch) }, onLine: progressLine(i.onProgress) });
  return { args: fileArgs, sha256: h.digest('hex') };
}

function progressLine(onProgress?: (percent: number) => void): (line: string) => void {
  return (line) => {
    const m = /([0-9.]+)% done/.exec(line);
    if (m && onProgress) onProgress(Number(m[1]));
  };
}

/** Run an image-writing xorriso: dates from the epoch, its percentage as progress. */
export async function runXorriso(args: string[], epoch: number, onProgress?: (percent: number) => void): Promise<void> {
  await run('xorriso', args, {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    onLine: progressLine(onProgress),
  });
}

export async function xorrisoVersion(): Promise<string> {
  const { stdout } = await run('xorriso', ['-no_rc', '-version']);
  return stdout.split('\n')[0].trim();
}

/** El Torito boot entries as xorriso reports them, for verification. */
export async function reportElTorito(iso: string): Promise<string> {
  const { stdout } = await run('xorriso', ['-no_rc', '-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
  return stdout;
}

/** Extract one file from an ISO. */
export async function extractFromIso(iso: string, isoPath: string, dest: string): Promise<void> {
  await run('xorriso', ['-no_rc', '-local_charset', 'UTF-8', '-osirrox', 'on', '-indev', iso, '-extract', isoPath, dest]);
}
