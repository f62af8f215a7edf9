// Stage "verify": read the mastered ISO back and check what matters before it is
// published: both El Torito entries, the hybrid layout, and that the kickstart and
// manifest on the medium are the ones we rendered.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { BuildError } from './errors.js';
import { extractFromIso, reportElTorito } from './tools/xorriso.js';
import { sha256File } from '../lib/hash.js';

export interface VerifyInput {
  iso: string;
  workDir: string;
  expect: { isoPath: string; sha256: string }[];
}

export async function verifyIso(i: VerifyInput): Promise<void> {
  const report = await reportElTorito(i.iso);
  if (!/El Torito boot img\s*:\s*1\s+BIOS/.test(report)) throw new BuildError(`${i.iso}: no BIOS El Torito boot image`, undefined, report);
  if (!/El Torito boot img\s*:\s*2\s+UEFI/.test(report)) throw new BuildError(`${i.iso}: no UEFI El Torito boot image`, undefined, report);
  if (!/MBR.*isohybrid/i.test(report) && !/isohybrid/i.test(report)) throw new BuildError(`${i.iso}: no isohybrid MBR`, undefined, report);
  if (!/GPT/.test(report)) throw new BuildError(`${i.iso}: no GPT for USB UEFI boot`, undefined, report);
  for (const e of i.expect) {
    const dest = path.join(i.workDir, `verify-${path.basename(e.isoPath)}`);
    await extractFromIso(i.iso, e.isoPath, dest);
    const got = await sha256File(dest);
    if (got !== e.sha256) throw new BuildError(`${i.iso}:${e.isoPath} has sha256 ${got}, expected ${e.sha256}`);
  }
}

/** Size and sha256 of files that only exist once mastered (the boot-info-table patches isolinux.bin). */
export async function masteredFile(iso: string, isoPath: string, workDir: string): Promise<{ size: number; sha256: string }> {
  const dest = path.join(workDir, `mastered-${path.basename(isoPath)}`);
  await extractFromIso(iso, isoPath, dest);
  const data = await readFile(dest);
  return { size: data.length, sha256: await sha256File(dest) };
}
