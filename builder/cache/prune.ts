// `xsbuild cache prune`: keep .cache/ under a size, dropping what was used longest ago.
// Units are whole entries (a stage output, a demo base, an agent executable, a runtime,
// a downloaded .deb), so nothing is left half there; what is dropped is rebuilt on need.
import path from 'node:path';
import { lstat, readdir, rm } from 'node:fs/promises';
import { STAGES_DIR } from './store.js';
import { IdentityCache } from './identity.js';

export interface CacheUnit {
  path: string;
  bytes: number;
  /** Last use (ms since 1970): the newest mtime inside. */
  used: number;
}

/** Directories whose children are the units. */
const UNIT_PARENTS = ['base-demo', 'agent', 'runtime', 'debs', 'base-iso'];

async function measure(p: string): Promise<{ bytes: number; used: number }> {
  const st = await lstat(p);
  if (!st.isDirectory()) return { bytes: st.size, used: st.mtimeMs };
  let bytes = 0;
  let used = st.mtimeMs;
  for (const e of await readdir(p)) {
    const m = await measure(path.join(p, e));
    bytes += m.bytes;
    used = Math.max(used, m.used);
  }
  return { bytes, used };
}

export async function cacheUnits(cacheDir: string): Promise<CacheUnit[]> {
  const parents = [...UNIT_PARENTS];
  for (const s of await readdir(path.join(cacheDir, STAGES_DIR)).catch(() => [])) parents.push(path.join(STAGES_DIR, s));
  const units: CacheUnit[] = [];
  for (const parent of parents) {
    for (const name of await readdir(path.join(cacheDir, parent)).catch(() => [])) {
      const p = path.join(cacheDir, parent, name);
      units.push({ path: p, ...(await measure(p)) });
    }
  }
  return units;
}

export interface PruneResult {
  before: number;
  after: number;
  removed: CacheUnit[];
}

/** Removes the least recently used units until the rest fit in maxBytes. */
export async function pruneCache(cacheDir: string, maxBytes: number): Promise<PruneResult> {
  const units = (await cacheUnits(cacheDir)).sort((a, b) => a.used - b.used);
  const before = units.reduce((s, u) => s + u.bytes, 0);
  let after = before;
  const removed: CacheUnit[] = [];
  for (const u of units) {
    if (after <= maxBytes) break;
    await rm(u.path, { recursive: true, force: true });
    after -= u.bytes;
    removed.push(u);
  }
  return { before, after, removed };
}

/** Remembered file hashes (.cache/files/*.json) of files that no longer exist are dropped. */
export async function forgetMissingFiles(cacheDir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(path.join(cacheDir, 'files')).catch(() => [])) {
    if (!f.endsWith('.json')) continue;
    const c = await IdentityCache.open<unknown>(cacheDir, f.slice(0, -'.json'.length));
    n += await c.forgetMissing();
    await c.save();
  }
  return n;
}
