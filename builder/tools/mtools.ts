// Read and replace single files inside an existing FAT image (an installer's
// images/efiboot.img or its appended ESP) without re-creating it: the base's boot
// loaders, layout and volume id stay as they were. Dates come from the epoch and TZ is
// UTC (see fat.ts), so the same edit of the same image gives the same bytes.
import { utimes } from 'node:fs/promises';
import { run } from './exec.js';

const env = (epoch: number) => ({ SOURCE_DATE_EPOCH: String(epoch), MTOOLS_SKIP_CHECK: '1' });

/** Every file in the image, as paths without a leading slash ("EFI/BOOT/grub.cfg"). */
export async function fatList(image: string): Promise<string[]> {
  const { stdout } = await run('mdir', ['-i', image, '-/', '-b', '::/'], { env: env(0) });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('::/') && !l.endsWith('/'))
    .map((l) => l.slice(3));
}

export async function fatRead(image: string, file: string, dest: string): Promise<void> {
  await run('mcopy', ['-n', '-i', image, `::/${file}`, dest], { env: env(0) });
}

/** Replace `file` in the image with `source` (its mtime is set to the epoch first). */
export async function fatReplace(image: string, file: string, source: string, epoch: number): Promise<void> {
  const date = new Date(epoch * 1000);
  await utimes(source, date, date);
  await run('mcopy', ['-o', '-m', '-i', image, source, `::/${file}`], { env: env(epoch) });
}
