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

/**
 * xorriso looks at a running write (and knows it has ended) once per pacifier interval:
 * at the default 1 s, every image took up to a second longer than its write.
 */
export const PACIFIER = ['-pacifier', 'interval=0.1'];

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
    ...PACIFIER,
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
  const args = masterIsoArgs(i);
  const h = createHash('sha256');
  await writeImageStreamed(args, i.output, i.epoch, (c) => h.update(c), i.onProgress);
  return { args, sha256: h.digest('hex') };
}

/**
 * Run an image-writing xorriso (`args` name the output file with -outdev or mkisofs'
 * -output) with the image sent through standard output instead, each chunk passed to
 * `onData` on its way to `output`.
 */
export async function writeImageStreamed(args: string[], output: string, epoch: number, onData: (chunk: Buffer) => void, onProgress?: (percent: number) => void): Promise<void> {
  const at = args.indexOf('-outdev') >= 0 ? args.indexOf('-outdev') : args.indexOf('-output');
  if (at < 0) throw new Error('writeImageStreamed: the xorriso arguments name no output');
  // Standard output as the drive must come first (xorriso's "start argument"; after
  // -indev or inside -as mkisofs it is refused).
  const piped = ['-outdev', '-', ...args.slice(0, at), ...args.slice(at + 2)];
  await runToFile('xorriso', piped, output, onData, { env: { SOURCE_DATE_EPOCH: String(epoch) }, onLine: progressLine(onProgress) });
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
