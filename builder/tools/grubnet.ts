// GRUB for UEFI network boot: an EFI binary with the network stack (efinet, http) and
// the Linux loader built in. Like grub.ts, grub-mkimage without a memdisk tarball keeps
// it reproducible; it reads $prefix/grub.cfg from the device it started from.
import { run } from './exec.js';

const MODULES = [
  'part_gpt', 'part_msdos', 'fat', 'iso9660', 'normal', 'linux', 'configfile', 'echo', 'test', 'regexp',
  'efinet', 'net', 'http', 'tftp', 'sleep', 'reboot', 'halt', 'serial', 'terminal', 'gzio', 'cat',
  'all_video', 'efi_gop',
];

export async function grubNetEfiImage(out: string): Promise<void> {
  await run('grub-mkimage', ['-O', 'x86_64-efi', '-p', '/EFI/BOOT', '-o', out, ...MODULES]);
}
