// Debian's prebuilt iPXE (packages ipxe, ipxe-qemu): where its files are, and which
// version they are. Nothing here compiles iPXE; scripts are handed to it at boot.
import { realpath, stat } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { run } from './exec.js';

export const IPXE_FILES = {
  /** BIOS, loaded as a Linux kernel; runs the script it gets as initrd. */
  lkrn: '/usr/lib/ipxe/ipxe.lkrn',
  /** BIOS PXE ROMs chain into this (uses the ROM's UNDI driver). */
  undionly: '/usr/lib/ipxe/undionly.kpxe',
  /** UEFI PXE firmware chains into these. */
  efi: '/usr/lib/ipxe/ipxe.efi',
  snponly: '/usr/lib/ipxe/snponly.efi',
} as const;

export type IpxeFile = keyof typeof IPXE_FILES;

/** The real file behind a Debian iPXE path (some are symlinks into /boot). */
export async function ipxeFile(name: IpxeFile): Promise<string> {
  const p = IPXE_FILES[name];
  const real = await realpath(p).catch(() => undefined);
  if (!real || !(await stat(real)).isFile()) {
    throw new BuildError(`${p} is missing`, 'install the Debian package ipxe (make deps-test, or apt-get install ipxe)');
  }
  return real;
}

export async function ipxeVersion(): Promise<string> {
  const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', 'ipxe'], { allowFailure: true });
  return stdout.trim() || 'unknown';
}
