// GRUB for UEFI. grub-mkimage with the modules built in (no memdisk tarball, whose
// member mtimes would change every build) gives a small, reproducible BOOTX64.EFI that
// reads $prefix/grub.cfg from the device it was started from, like Anaconda's.
import { run } from './exec.js';

const MODULES = [
  'part_gpt', 'part_msdos', 'fat', 'iso9660', 'normal', 'linux', 'configfile', 'search', 'search_label',
  'search_fs_file', 'search_fs_uuid', 'echo', 'test', 'ls', 'cat', 'all_video', 'efi_gop', 'serial',
  'terminal', 'gzio', 'reboot', 'halt', 'sleep',
];

export async function grubEfiImage(out: string): Promise<void> {
  await run('grub-mkimage', ['-O', 'x86_64-efi', '-p', '/EFI/BOOT', '-o', out, ...MODULES]);
}

export async function grubVersion(): Promise<string> {
  const { stdout } = await run('grub-mkimage', ['--version']);
  return stdout.trim();
}
