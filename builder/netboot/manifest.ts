// The netboot manifest (netboot/netboot.json): what the tree holds, which machine gets
// which kickstart, and the symlinks the generator made on purpose. `xsbuild serve` reads
// it for the room view and to follow exactly those symlinks out of the tree.
export const NETBOOT_MANIFEST = 'netboot.json';

export interface NetbootMachine {
  mac: string;
  /** 52-54-00-aa-bb-01, as in URLs and the room view. */
  id: string;
  hostname: string;
  ipxe: string;
  grub: string;
  kickstart: string;
  kickstartSha256: string;
}

export interface NetbootFile {
  path: string;
  size: number;
  /**
   * generated: written by xsbuild (sha256 given); hardlink/symlink/copy: the install
   * media's file of the same path. Source paths are not recorded: they depend on where
   * the project is checked out, and the tree must not (symlink targets are in `symlinks`).
   */
  kind: 'generated' | 'hardlink' | 'symlink' | 'copy';
  sha256?: string;
}

export interface NetbootManifest {
  format: 1;
  site: string;
  release: string;
  serverUrl: string;
  unknownMachines: 'default' | 'refuse';
  entry: { ipxe: string; grub: string; bootstrap: string; pxelinux: string; dnsmasq: string };
  kernel: string;
  initrds: string[];
  args: string[];
  machines: NetbootMachine[];
  default: { kickstart: string; kickstartSha256: string } | null;
  /** Tree path → real path of the source, for each symlink the generator made. */
  symlinks: Record<string, string>;
  files: NetbootFile[];
}
