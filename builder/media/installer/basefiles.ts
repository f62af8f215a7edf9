// Every file of a base ISO with its size and sha256, for the manifest, hashed in place
// (no extraction). An ISO is fixed by its sha256, so the list is cached under it.
import path from 'node:path';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hashImageFiles } from '../../../lib/iso-hash.js';
import type { ManifestFile } from '../../manifest-types.js';
import type { BaseSource } from './source.js';

const cacheFile = (cacheDir: string, sha256: string) => path.join(cacheDir, 'base-iso', `${sha256}.files.json`);

/** The files of the ISO with this sha256, as hashed before, or undefined. */
export async function cachedBaseFiles(cacheDir: string, sha256: string): Promise<ManifestFile[] | undefined> {
  return readFile(cacheFile(cacheDir, sha256), 'utf8').then((t) => JSON.parse(t) as ManifestFile[], () => undefined);
}

export async function saveBaseFiles(cacheDir: string, sha256: string, files: ManifestFile[]): Promise<void> {
  const cache = cacheFile(cacheDir, sha256);
  await mkdir(path.dirname(cache), { recursive: true });
  const tmp = `${cache}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(files));
  await rename(tmp, cache);
}

/** Hash every file of the ISO (in a worker thread), sorted by path. */
export async function hashBaseFiles(src: BaseSource, progress: (pct: number) => void): Promise<ManifestFile[]> {
  const entries = src.isoEntries ?? [];
  const total = entries.reduce((s, e) => s + e.size, 0);
  let done = 0;
  const hashes = await hashImageFiles(src.location, entries.map((e) => ({ path: e.path, extents: e.extents })), (b) => {
    done += b;
    progress(total ? (100 * done) / total : 100);
  });
  return entries.map((e, i) => ({ path: e.path, size: e.size, sha256: hashes[i] })).sort((a, b) => (a.path < b.path ? -1 : 1));
}
