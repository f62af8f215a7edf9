// The diff report: what compare() produces and every renderer reads. The JSON output is
// this object as is; schemas/diff.schema.json describes it for CI consumers, so change
// both together and bump REPORT_VERSION on incompatible changes.
import type { BootEntry, ManifestLayer } from '../manifest-types.js';

export const REPORT_VERSION = 1;

export interface SideInfo {
  /** The argument as given on the command line. */
  input: string;
  kind: 'iso' | 'out-dir' | 'manifest';
  /** The ISO read for content (kickstart, boot configs, repodata), if any. */
  image: string | null;
  manifest: boolean;
  /** Where the file list came from: the manifest, or hashing the image. */
  filesFrom: 'manifest' | 'scan';
  site: string | null;
  release: string | null;
  volumeId: string | null;
  sourceDateEpoch: number | null;
  files: number;
  bytes: number;
}

/** A section that could not be compared says why instead of reporting false changes. */
export interface Availability {
  available: boolean;
  reason?: string;
}

export interface FieldChange {
  field: string;
  a: string | null;
  b: string | null;
}

export interface LayerChange {
  name: string;
  a: { version: string; contentSha256: string };
  b: { version: string; contentSha256: string };
}

export interface LayersSection extends Availability {
  added: ManifestLayer[];
  removed: ManifestLayer[];
  changed: LayerChange[];
}

export interface RequestedSection extends Availability {
  added: string[];
  removed: string[];
}

export interface Nevra {
  name: string;
  arch: string;
  epoch: number;
  version: string;
  release: string;
  /** "name-[epoch:]version-release.arch" */
  nevra: string;
  /** The .rpm's path on the media. */
  file: string;
}

export interface VersionChange {
  name: string;
  arch: string;
  a: Nevra;
  b: Nevra;
}

export interface ShippedSection extends Availability {
  reposA: string[];
  reposB: string[];
  added: Nevra[];
  removed: Nevra[];
  upgraded: VersionChange[];
  downgraded: VersionChange[];
}

export interface KickstartSection extends Availability {
  a: { path: string; sha256: string } | null;
  b: { path: string; sha256: string } | null;
  changed: boolean;
  /** Unified diff, or null when a side's text could not be read (only hashes known). */
  diff: string | null;
}

export interface BootEntryChange {
  config: string;
  label: string;
  kernel: { a: string; b: string } | null;
  initrd: { a: string[]; b: string[] } | null;
  argsAdded: string[];
  argsRemoved: string[];
  argsA: string[];
  argsB: string[];
}

export interface BootSection extends Availability {
  /** Both sides from manifests, both parsed from boot loader configs, or one of each. */
  from: 'manifest' | 'configs' | 'mixed';
  added: BootEntry[];
  removed: BootEntry[];
  changed: BootEntryChange[];
}

/** The section that already reports a file's change; null when only the file list does. */
export type Owner = 'kickstart' | 'boot' | 'packages' | 'library' | null;

export interface FileRef {
  path: string;
  size: number;
  sha256: string;
  shownIn: Owner;
}

export interface FileChange {
  path: string;
  a: { size: number; sha256: string };
  b: { size: number; sha256: string };
  shownIn: Owner;
}

export interface FileRename {
  from: string;
  to: string;
  size: number;
  sha256: string;
  shownIn: Owner;
}

export interface FilesSection {
  added: FileRef[];
  removed: FileRef[];
  changed: FileChange[];
  renamed: FileRename[];
}

export interface LibraryDest {
  dest: string;
  added: { files: number; bytes: number };
  removed: { files: number; bytes: number };
  changed: { files: number; bytesA: number; bytesB: number };
  renamed: { files: number; bytes: number };
  unchanged: { files: number; bytes: number };
}

export interface LibrarySection extends Availability {
  dests: LibraryDest[];
}

export interface Totals {
  /** Items reported in the sections (each file counted once, in the section that shows it). */
  differences: number;
  layers: { added: number; removed: number; changed: number };
  packagesRequested: { added: number; removed: number };
  packagesShipped: { added: number; removed: number; upgraded: number; downgraded: number };
  bootEntries: { added: number; removed: number; changed: number };
  files: { added: number; removed: number; changed: number; renamed: number };
  bytes: { a: number; b: number; delta: number };
}

export interface DiffReport {
  reportVersion: number;
  same: boolean;
  a: SideInfo;
  b: SideInfo;
  release: { changes: FieldChange[] };
  layers: LayersSection;
  packagesRequested: RequestedSection;
  packagesShipped: ShippedSection;
  kickstart: KickstartSection;
  boot: BootSection;
  files: FilesSection;
  library: LibrarySection;
  totals: Totals;
}
