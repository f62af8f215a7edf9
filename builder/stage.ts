// Stage "stage": a plan of ISO path → source on disk. Nothing is copied: xorriso maps
// each source into the image, so a large library costs no extra disk or time here.
import path from 'node:path';
import { lstat, readdir } from 'node:fs/promises';
import { InputError, BuildError } from './errors.js';
import type { Graft } from './tools/xorriso.js';

export interface PlanFile {
  isoPath: string;
  source: string;
  size: number;
}

export interface Plan {
  grafts: Graft[];
  files: PlanFile[];
}

export interface PlanSource {
  isoPath: string;
  source: string;
  /** Who asked for it, for conflict messages. */
  origin: string;
}

export async function stagePlan(fileSources: PlanSource[], dirSources: PlanSource[]): Promise<Plan> {
  const owner = new Map<string, string>();
  const claim = (isoPath: string, origin: string) => {
    const prev = owner.get(isoPath);
    if (prev) {
      throw new InputError({ file: origin }, `${isoPath} on the media is also written by ${prev}`, 'give one of them another destination');
    }
    owner.set(isoPath, origin);
  };
  const files: PlanFile[] = [];
  for (const f of fileSources) {
    const st = await lstat(f.source).catch(() => undefined);
    if (!st?.isFile()) throw new BuildError(`${f.source} (for ${f.isoPath}, from ${f.origin}) is not a regular file`);
    claim(f.isoPath, f.origin);
    files.push({ isoPath: f.isoPath, source: f.source, size: st.size });
  }
  for (const d of dirSources) {
    for (const f of await walk(d.source, d.origin)) {
      const isoPath = path.posix.join(d.isoPath, f.rel);
      claim(isoPath, d.origin);
      files.push({ isoPath, source: path.join(d.source, f.rel), size: f.size });
    }
  }
  // Directories are mapped whole (one graft for a library of any size).
  const grafts: Graft[] = [...fileSources, ...dirSources].map((s) => ({ isoPath: s.isoPath, source: s.source }));
  files.sort((a, b) => (a.isoPath < b.isoPath ? -1 : a.isoPath > b.isoPath ? 1 : 0));
  return { grafts, files };
}

async function walk(root: string, origin: string): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  const rec = async (rel: string) => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await rec(r);
      else if (e.isFile()) out.push({ rel: r, size: (await lstat(path.join(root, r))).size });
      else {
        throw new InputError(
          { file: origin },
          `${path.join(root, r)} is not a regular file or directory (symlink or device)`,
          'replace it with the file it points to, or remove it from the content',
        );
      }
    }
  };
  await rec('');
  return out;
}
