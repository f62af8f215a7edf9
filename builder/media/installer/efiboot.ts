// The GRUB config inside the EFI boot image (images/efiboot.img, or the ESP a newer
// Fedora-style ISO appends as a partition): on a UEFI CD boot GRUB reads its config from
// there, not from EFI/BOOT/grub.cfg on the ISO, so it needs the same edits. The image is
// edited in a copy; the base's boot loaders in it stay as they are.
import path from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fatList, fatRead, fatReplace } from '../../tools/mtools.js';
import { editGrub, type EditOptions } from './bootcfg.js';
import type { BootEntrySpec } from '../../render.js';

export async function editFatGrubConfigs(
  image: string,
  workDir: string,
  opts: Omit<EditOptions, 'configPath'>,
  epoch: number,
): Promise<{ config: string; entries: BootEntrySpec[]; before: string; after: string }[]> {
  const out: { config: string; entries: BootEntrySpec[]; before: string; after: string }[] = [];
  const cfgs = (await fatList(image)).filter((f) => /(^|\/)grub\.cfg$/i.test(f)).sort();
  for (const cfg of cfgs) {
    const local = path.join(workDir, 'fat', cfg);
    await mkdir(path.dirname(local), { recursive: true });
    await fatRead(image, cfg, local);
    const before = await readFile(local, 'utf8');
    const edited = editGrub(before, { ...opts, configPath: `/${cfg}` });
    await writeFile(local, edited.text);
    await fatReplace(image, cfg, local, epoch);
    out.push({ config: cfg, entries: edited.entries, before, after: edited.text });
  }
  return out;
}
