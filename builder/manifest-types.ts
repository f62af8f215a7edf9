// The shape of manifest.json: written by the manifest stage, read by `xsbuild diff`
// and by the agent. Bump MANIFEST_VERSION on any incompatible change.
export const MANIFEST_VERSION = 1;

export interface ManifestFile {
  /** Path on the ISO, absolute, forward slashes ("/images/pxeboot/vmlinuz"). */
  path: string;
  size: number;
  sha256: string;
}

export interface ManifestLayer {
  name: string;
  version: string;
  /** sha256 over the layer's directory contents (paths + bytes), stable across clones. */
  contentSha256: string;
}

export interface BootEntry {
  /** Which boot loader config the entry lives in, e.g. "isolinux/isolinux.cfg". */
  config: string;
  label: string;
  kernel: string;
  initrd: string[];
  args: string[];
}

/** A package repository on the media: the base's, or the site's composed one. */
export interface ManifestRepo {
  name: string;
  /** Directory of the repository on the media ("/xs-rioja", "/BaseOS", "/"). */
  path: string;
  origin: 'base' | 'site';
  /** NEVRA, file on the media, sha256 (empty when the base's metadata has no sha256). */
  packages: { nevra: string; file: string; sha256: string; origin?: string }[];
}

export interface Manifest {
  manifestVersion: number;
  site: string;
  release: string;
  sourceDateEpoch: number;
  volumeId: string;
  base: { kind: string; version: string; sha256: string };
  layers: ManifestLayer[];
  kickstart: { path: string; sha256: string };
  bootEntries: BootEntry[];
  packages: string[];
  /** Library content shipped, as destination paths on the ISO (the files are in `files`). */
  library: { dest: string; files: number; bytes: number }[];
  files: ManifestFile[];
  tools: Record<string, string>;
  /** Repositories on the media (installer bases, or sites that ship RPMs). */
  repos?: ManifestRepo[];
  /** What the kickstart's %packages resolves to (NEVRAs), checked with dnf at build time. */
  installSet?: string[];
  /** Only in out/<site>/manifest.json: facts known after mastering. */
  iso?: { name: string; size: number; sha256: string };
}
