// Stage "manifest": what went into the image, for humans, `xsbuild diff` and the agent.
import path from 'node:path';
import { readdir, writeFile } from 'node:fs/promises';
import { MANIFEST_VERSION, type Manifest, type ManifestFile, type ManifestRepo, type BootEntry } from './manifest-types.js';
import { sha256File } from '../lib/hash.js';
import type { LoadedSite } from './site.js';
import type { ResolvedLayers } from './layers.js';
import type { Media } from './media/types.js';
import type { PlanFile } from './stage.js';
import type { BootEntrySpec } from './render.js';
import { installedVersions } from './tools/debian.js';
import { checkInterrupted } from './tools/exec.js';
import { readLock } from '../agent/runtime.js';
import { PROJECT_DIR } from './paths.js';
import type { IdentityCache, Identity } from './cache/identity.js';

/** Debian packages whose programs make the image; their versions go into the manifest. */
const TOOL_PACKAGES = ['xorriso', 'grub-common', 'grub-efi-amd64-bin', 'mtools', 'dosfstools', 'isolinux', 'syslinux-common'];

/**
 * What made the image's bytes: the Debian tools' versions and, when the image carries
 * xs-agent, the pinned runtime inside it. Not the Node running the build: it changes no
 * byte of the output (agent/runtime.ts).
 */
export async function toolVersions(withAgent: boolean): Promise<Record<string, string>> {
  const tools = await installedVersions(TOOL_PACKAGES);
  if (withAgent) {
    const rt = readLock(PROJECT_DIR);
    tools['xs-agent-runtime'] = `${rt.package}@${rt.version} sha256:${rt.sha256}`;
  }
  return tools;
}

/**
 * sha256 of every staged file. A file whose identity (builder/cache/identity.ts) is as
 * it was when last hashed is not read again; progress counts the bytes read.
 */
export async function hashPlanFiles(files: PlanFile[], known: IdentityCache<string>, onProgress?: (done: number, total: number) => void): Promise<{ files: ManifestFile[]; readBytes: number }> {
  const out: ManifestFile[] = [];
  const toRead: { f: PlanFile; identity: Identity }[] = [];
  for (const f of files) {
    const { value, identity } = await known.get(f.source);
    if (value) out.push({ path: f.isoPath, size: f.size, sha256: value });
    else toRead.push({ f, identity });
  }
  const total = toRead.reduce((s, x) => s + x.f.size, 0);
  let done = 0;
  for (const { f, identity } of toRead) {
    checkInterrupted();
    const sha = await sha256File(f.source);
    known.set(f.source, identity, sha);
    out.push({ path: f.isoPath, size: f.size, sha256: sha });
    done += f.size;
    onProgress?.(done, total);
  }
  return { files: out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), readBytes: total };
}

export interface ManifestInput {
  site: LoadedSite;
  epoch: number;
  base: Media['base'];
  layers: ResolvedLayers;
  kickstartSha256: string;
  boot: { config: string; entries: BootEntrySpec[] }[];
  files: ManifestFile[];
  tools: Record<string, string>;
  repos?: ManifestRepo[];
  installSet?: string[];
}

export function buildManifest(i: ManifestInput): Manifest {
  const bootEntries: BootEntry[] = i.boot.flatMap((b) =>
    b.entries.map((e) => ({ config: b.config, label: e.label, kernel: e.kernel, initrd: e.initrd, args: e.args })),
  );
  const library = i.site.library.map((l) => {
    const inside = i.files.filter((f) => f.path.startsWith(`${l.dest}/`));
    return { dest: l.dest, files: inside.length, bytes: inside.reduce((s, f) => s + f.size, 0) };
  });
  return {
    manifestVersion: MANIFEST_VERSION,
    site: i.site.data.site,
    release: i.site.release,
    sourceDateEpoch: i.epoch,
    volumeId: i.site.volumeId,
    base: { kind: i.base.kind, version: i.base.version, sha256: i.base.sha256 },
    layers: i.layers.layers.map((l) => ({ name: l.name, version: l.version, contentSha256: l.contentSha256 })),
    kickstart: { path: '/ks.cfg', sha256: i.kickstartSha256 },
    bootEntries,
    packages: [...i.layers.packages.map((p) => p.name), ...i.layers.excludePackages.map((p) => `-${p.name}`)],
    library,
    files: i.files,
    tools: i.tools,
    ...(i.repos ? { repos: i.repos } : {}),
    ...(i.installSet ? { installSet: i.installSet } : {}),
  };
}

/**
 * SHA256SUMS for every file in dir (GNU coreutils format, sorted). `known` gives the
 * sha256 of files already hashed (the ISO, as it was written), which are not read again.
 */
export async function writeSha256Sums(dir: string, known: Record<string, string> = {}): Promise<void> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name !== 'SHA256SUMS').map((e) => e.name).sort();
  const lines: string[] = [];
  for (const n of names) lines.push(`${known[n] ?? (await sha256File(path.join(dir, n)))}  ${n}`);
  await writeFile(path.join(dir, 'SHA256SUMS'), lines.join('\n') + '\n');
}
