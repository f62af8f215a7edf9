// Turn one command-line argument (an ISO, an out/<site>/ directory or a manifest.json)
// into a Snapshot: the manifest if there is one, the file list (from the manifest, or
// by hashing the image), and what can be read from the image for the other sections.
import { sha256 } from '../../lib/hash.js';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BootEntry, Manifest } from '../manifest-types.js';
import { isBootConfig, kickstartFromArgs, parseBootConfig } from './bootconfig.js';
import { DiffError } from './errors.js';
import { hashImageFiles } from '../../lib/iso-hash.js';
import { IsoImage, type IsoEntry } from '../../lib/iso9660.js';
import { parseManifest } from './manifest-read.js';
import { Progress } from './progress.js';
import { readShipped, type ShippedPackage } from './repodata.js';

/** Where an xsbuild ISO keeps its manifest. Not compared as a file: the sections are. */
export const MANIFEST_ON_ISO = '/.xsbuild/manifest.json';
export const METADATA_DIR = '/.xsbuild/';

export interface FileInfo {
  size: number;
  sha256: string;
}

export interface Snapshot {
  input: string;
  kind: 'iso' | 'out-dir' | 'manifest';
  image: IsoImage | null;
  manifest: Manifest | null;
  filesFrom: 'manifest' | 'scan';
  files: Map<string, FileInfo>;
  volumeId: string | null;
  kickstart: { path: string; sha256: string; text: string | null } | null;
  /** Entries parsed from the boot loader configs on the image (null without an image). */
  bootFromConfigs: BootEntry[] | null;
  /** Null when there is no image to read repodata from. */
  shipped: { repos: string[]; packages: ShippedPackage[] } | null;
}

/** A source opened but not yet hashed: scanning is done for both sides at once. */
export interface OpenedSource {
  input: string;
  kind: Snapshot['kind'];
  image: IsoImage | null;
  manifest: Manifest | null;
  /** Set when the file list must come from hashing the image. */
  toScan: IsoEntry[] | null;
}

async function looksLikeJson(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    return /^\s*\{/.test(buf.subarray(0, bytesRead).toString('latin1'));
  } finally {
    await fh.close();
  }
}

/** The ISO named by a manifest's `iso` field, next to it, checked against the recorded size. */
async function siblingImage(manifest: Manifest, dir: string, where: string): Promise<IsoImage | null> {
  if (!manifest.iso) return null;
  const path = join(dir, basename(manifest.iso.name));
  let st;
  try {
    st = await stat(path);
  } catch {
    return null;
  }
  if (st.size !== manifest.iso.size) {
    throw new DiffError(
      `${path}: is ${st.size} bytes but ${where} records ${manifest.iso.size}; the directory mixes two builds or the ISO is partial. Rebuild the site.`,
    );
  }
  return IsoImage.open(path);
}

export async function openSource(input: string, scan: boolean): Promise<OpenedSource> {
  // A damaged image can fail after it was opened (its manifest, its directories): close
  // it then, since the caller only closes what it got back.
  const opened: IsoImage[] = [];
  try {
    return await openSourceInto(input, scan, opened);
  } catch (e) {
    await Promise.all(opened.map((i) => i.close().catch(() => undefined)));
    throw e;
  }
}

async function openSourceInto(input: string, scan: boolean, opened: IsoImage[]): Promise<OpenedSource> {
  let st;
  try {
    st = await stat(input);
  } catch {
    throw new DiffError(`${input}: no such file or directory. Pass an ISO, an out/<site>/ directory or a manifest.json.`);
  }
  let kind: Snapshot['kind'];
  let manifest: Manifest | null = null;
  let image: IsoImage | null = null;
  if (st.isDirectory()) {
    const mpath = join(input, 'manifest.json');
    let text: string;
    try {
      text = await readFile(mpath, 'utf8');
    } catch {
      throw new DiffError(`${input}: a directory without manifest.json. Pass an out/<site>/ directory of a finished build, an ISO or a manifest.json.`);
    }
    kind = 'out-dir';
    manifest = parseManifest(text, mpath);
    image = await siblingImage(manifest, input, mpath);
    if (image) opened.push(image);
  } else if (await looksLikeJson(input)) {
    kind = 'manifest';
    manifest = parseManifest(await readFile(input, 'utf8'), input);
    image = await siblingImage(manifest, dirname(input), input);
    if (image) opened.push(image);
  } else {
    kind = 'iso';
    image = await IsoImage.open(input);
    opened.push(image);
    const bytes = await image.readFile(MANIFEST_ON_ISO);
    if (bytes) manifest = parseManifest(bytes.toString('utf8'), `${input}:${MANIFEST_ON_ISO}`);
  }
  if (kind !== 'iso' && image) {
    // out/<site>/manifest.json records files as mastered (boot catalog, patched boot
    // loader), the copy inside the ISO as staged. Prefer the ISO's own, so an out/
    // directory and an ISO of the same build compare equal.
    const inner = await image.readFile(MANIFEST_ON_ISO);
    if (inner) manifest = parseManifest(inner.toString('utf8'), `${image.file}:${MANIFEST_ON_ISO}`);
  }
  let toScan: IsoEntry[] | null = null;
  if (scan || !manifest) {
    if (!image) {
      const why = manifest?.iso ? `its ISO ${manifest.iso.name} is not beside it` : 'it names no ISO';
      throw new DiffError(`${input}: --scan needs the ISO, but ${why}. Pass the ISO itself.`);
    }
    toScan = (await image.list()).filter((e) => e.kind === 'file' && !e.path.startsWith(METADATA_DIR));
    const z = toScan.find((e) => e.zisofs);
    if (z) {
      throw new DiffError(`${image.file}: ${z.path} is zisofs-compressed, which xsbuild diff cannot hash. Master the image without zisofs.`);
    }
  }
  return { input, kind, image, manifest, toScan };
}

/** Hash every side that needs it, all at once (one worker per image), with one progress line. */
export async function scanAll(sources: OpenedSource[], quiet: boolean): Promise<Map<string, FileInfo>[]> {
  const total = sources.reduce((n, s) => n + (s.toScan ?? []).reduce((m, e) => m + e.size, 0), 0);
  const progress = quiet ? null : new Progress('hashing files', total);
  const results = await Promise.all(
    sources.map(async (s) => {
      if (!s.toScan || !s.image) return null;
      const hashes = await hashImageFiles(s.image.file, s.toScan.map((e) => ({ path: e.path, extents: e.extents })), (n) => progress?.add(n));
      const files = new Map<string, FileInfo>();
      s.toScan.forEach((e, i) => files.set(e.path, { size: e.size, sha256: hashes[i] }));
      return files;
    }),
  );
  progress?.finish();
  return sources.map((s, i) => results[i] ?? manifestFiles(s.manifest!));
}

function manifestFiles(m: Manifest): Map<string, FileInfo> {
  const files = new Map<string, FileInfo>();
  for (const f of m.files) if (!f.path.startsWith(METADATA_DIR)) files.set(f.path, { size: f.size, sha256: f.sha256 });
  return files;
}


/** Read what the other sections need from the image: boot configs, kickstart, repodata. */
export async function completeSnapshot(s: OpenedSource, files: Map<string, FileInfo>): Promise<Snapshot> {
  const read = async (p: string) => (s.image ? s.image.readFile(p) : null);
  let bootFromConfigs: BootEntry[] | null = null;
  if (s.image) {
    bootFromConfigs = [];
    for (const p of [...files.keys()].filter(isBootConfig).sort()) {
      const text = await read(p);
      if (text) bootFromConfigs.push(...parseBootConfig(p, text.toString('utf8')));
    }
  }
  let kickstart: Snapshot['kickstart'] = null;
  if (s.manifest) {
    const path = s.manifest.kickstart.path.startsWith('/') ? s.manifest.kickstart.path : `/${s.manifest.kickstart.path}`;
    const bytes = await read(path);
    kickstart = { path, sha256: s.manifest.kickstart.sha256, text: bytes ? bytes.toString('utf8') : null };
  } else {
    // Without a manifest, the kickstart is the one the boot entries point at, or /ks.cfg.
    const named = bootFromConfigs ? kickstartFromArgs(bootFromConfigs) : null;
    const path = [named, '/ks.cfg'].find((p) => p && files.has(p));
    const bytes = path ? await read(path) : null;
    if (path && bytes) kickstart = { path, sha256: sha256(bytes), text: bytes.toString('utf8') };
  }
  const where = s.image?.file ?? s.input;
  const shipped = s.image ? await readShipped(files.keys(), read, where) : null;
  return {
    input: s.input,
    kind: s.kind,
    image: s.image,
    manifest: s.manifest,
    filesFrom: s.toScan ? 'scan' : 'manifest',
    files,
    volumeId: s.image?.volumeId ?? s.manifest?.volumeId ?? null,
    kickstart,
    bootFromConfigs,
    shipped,
  };
}
