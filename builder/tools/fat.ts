// FAT images (the EFI system partition inside the ISO). mkfs.fat with a fixed volume id
// and --invariant, mtools under TZ=UTC with file dates taken from the epoch: the same
// files give the same image bytes.
import { run } from './exec.js';
import { stat, utimes } from 'node:fs/promises';

export interface FatFile {
  /** Path inside the image, e.g. EFI/BOOT/BOOTX64.EFI */
  dest: string;
  source: string;
}

export async function fatImage(out: string, files: FatFile[], epoch: number, label: string): Promise<void> {
  let bytes = 0;
  for (const f of files) bytes += (await stat(f.source)).size;
  // Room for the files, FAT tables and directories, rounded to 1 MiB.
  const kib = Math.ceil((bytes * 1.1 + 512 * 1024) / (1024 * 1024)) * 1024;
  const date = new Date(epoch * 1000);
  for (const f of files) await utimes(f.source, date, date);
  const env = { SOURCE_DATE_EPOCH: String(epoch), MTOOLS_SKIP_CHECK: '1' };
  await run('mkfs.fat', ['-C', '-i', '58535342', '--invariant', '-n', label.slice(0, 11), out, String(kib)], { env });
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.dest.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) await run('mmd', ['-i', out, `::/${d}`], { env });
  for (const f of files) await run('mcopy', ['-m', '-i', out, f.source, `::/${f.dest}`], { env });
}
