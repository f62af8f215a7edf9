// SYSLINUX on a FAT image (BIOS boot of a USB disk). The mtools build of `syslinux`
// writes no timestamps of its own, so a fixed FAT image stays byte-identical.
import { run } from './exec.js';

export async function syslinuxInstall(image: string, epoch: number): Promise<void> {
  await run('syslinux', ['--install', image], { env: { SOURCE_DATE_EPOCH: String(epoch), MTOOLS_SKIP_CHECK: '1' } });
}
