// Stage "initrd overlay": a small gzip'd newc archive appended to every boot entry's
// initrds. It carries the site's identity, which the installer prints: proof that the
// overlay loaded (the kernel silently ignores an archive it cannot read).
import { newcArchive, gzipDeterministic, parentDirs, type CpioEntry } from './cpio.js';

/** Where the overlay lives on the media. */
export const OVERLAY_ISO_PATH = '/images/xsbuild/overlay.img';

export async function initrdOverlay(i: { site: string; release: string; volumeId: string; epoch: number }): Promise<Buffer> {
  const entries: CpioEntry[] = [
    { kind: 'file', path: 'etc/xsbuild/overlay.txt', data: Buffer.from(`site=${i.site} release=${i.release} volid=${i.volumeId}\n`) },
  ];
  return gzipDeterministic(await newcArchive([...parentDirs(entries.map((e) => e.path)), ...entries], i.epoch));
}
