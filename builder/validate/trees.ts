// Paths on the target and on the install media that a site or layer must not write over.
// A library dest or a layer file lands on these paths as given, on the media while
// installing and on every server through signed updates, so a wrong one breaks a fleet.
import path from 'node:path';

/**
 * Directories of the installed system (FHS and the systemd/RPM trees a distribution
 * ships). A library dest on one of them (or on `/`, their ancestor) would pour content
 * into the system tree; a layer file there would replace a directory with a file.
 */
export const SYSTEM_TREES: readonly string[] = [
  '/bin', '/boot', '/boot/efi', '/boot/grub2', '/dev', '/etc', '/etc/pki', '/etc/sysconfig',
  '/etc/systemd', '/etc/systemd/system', '/etc/yum.repos.d', '/etc/NetworkManager',
  '/home', '/lib', '/lib64', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin',
  '/srv', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/include', '/usr/lib', '/usr/lib64',
  '/usr/libexec', '/usr/local', '/usr/sbin', '/usr/share', '/usr/src', '/usr/lib/systemd',
  '/usr/lib/systemd/system', '/usr/lib/udev', '/usr/lib/udev/rules.d', '/var', '/var/cache',
  '/var/lib', '/var/log', '/var/spool', '/var/tmp', '/var/www',
];

/** Mounted over at boot (kernel or tmpfs): whatever the image puts there is never seen. */
export const VOLATILE_TREES: readonly string[] = ['/dev', '/proc', '/run', '/sys', '/tmp'];

/**
 * Install media paths the base and xsbuild write: boot loaders, kernel and initrds,
 * installer stage 2, the kickstart, the manifest, the target files' staging tree and
 * the base's package repositories. `siteRepo` is the site repository's directory.
 */
export function mediaOwnedPaths(siteRepo: string): string[] {
  return [
    '/ks.cfg', '/.treeinfo', '/.discinfo', '/.xsbuild', '/xsbuild/root', '/images', '/isolinux',
    '/EFI', '/boot', '/LiveOS', '/BaseOS', '/AppStream', '/Packages', '/repodata', `/${siteRepo}`,
  ];
}

/** `p` is `tree` or lies below it. */
export function within(p: string, tree: string): boolean {
  return p === tree || tree === '/' || p.startsWith(`${tree}/`);
}

/**
 * What is wrong with an absolute destination's spelling, if anything: the root itself,
 * a trailing slash, or `//` and `.` segments (two spellings of one path would slip past
 * the duplicate checks). `fix` is the canonical spelling.
 */
export function spellingProblem(dest: string): { problem: string; fix?: string } | undefined {
  if (dest === '/' || /^\/+$/.test(dest)) return { problem: 'is the root directory' };
  const canonical = path.posix.normalize(dest).replace(/\/+$/, '');
  if (dest.endsWith('/')) return { problem: 'ends in "/" (names a directory, not a file)', fix: canonical };
  if (canonical !== dest) return { problem: 'is not in canonical form ("//" or "." segments)', fix: canonical };
  return undefined;
}
