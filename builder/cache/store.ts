// The content-addressed stage cache: a stage whose inputs hash the same is not run
// again. An entry is .cache/stages/<stage>/<key>/ with the stage's output files under
// out/ and entry.json listing each file's size and sha256; it is written in a temp dir
// and renamed into place, re-hashed before every use, and rebuilt (never used) when it
// does not match. Deleting .cache/ at any time only costs rebuilding.
import path from 'node:path';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { sha256, sha256File } from '../../lib/hash.js';
import { filesUnder } from '../../lib/tree.js';

const FORMAT = 1;
export const STAGES_DIR = 'stages';

interface EntryFile {
  format: number;
  stage: string;
  key: string;
  files: Record<string, { size: number; sha256: string }>;
  meta: unknown;
}

export interface CachedOutput<M> {
  /** The entry's out/ directory: the stage's files, read-only by convention. */
  dir: string;
  meta: M;
  /** Size and sha256 of each output file (relative path), checked on this use. */
  files: Record<string, { size: number; sha256: string }>;
  hit: boolean;
}

/** The key of a stage's inputs: every value that shapes its output bytes, as JSON. */
export function stageKey(stage: string, inputs: unknown): string {
  return sha256(JSON.stringify({ format: FORMAT, stage, inputs }));
}


async function verified(entry: string, stage: string, key: string): Promise<EntryFile | undefined> {
  const doc = await readFile(path.join(entry, 'entry.json'), 'utf8').then((t) => JSON.parse(t) as EntryFile, () => undefined);
  if (!doc || doc.format !== FORMAT || doc.stage !== stage || doc.key !== key) return undefined;
  for (const [rel, want] of Object.entries(doc.files)) {
    const file = path.join(entry, 'out', rel);
    const st = await stat(file).catch(() => undefined);
    if (!st || st.size !== want.size || (await sha256File(file)) !== want.sha256) return undefined;
  }
  return doc;
}

/**
 * The output of `stage` for inputs hashing to `key`: from the cache, or made by `make`
 * into an empty directory (whose files become the entry) and kept.
 */
export async function cachedStage<M>(
  cacheDir: string,
  stage: string,
  key: string,
  make: (outDir: string) => Promise<M>,
  log?: (m: string) => void,
): Promise<CachedOutput<M>> {
  const entry = path.join(cacheDir, STAGES_DIR, stage, key);
  const hit = await verified(entry, stage, key);
  if (hit) {
    // The entry's time is its last use, for `xsbuild cache prune`.
    const now = new Date();
    await utimes(path.join(entry, 'entry.json'), now, now).catch(() => {});
    return { dir: path.join(entry, 'out'), meta: hit.meta as M, files: hit.files, hit: true };
  }
  if (await stat(entry).then(() => true, () => false)) log?.(`cache: ${stage} entry ${key.slice(0, 12)} does not match its contents; rebuilding it`);
  const tmp = `${entry}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(path.join(tmp, 'out'), { recursive: true });
  try {
    const meta = await make(path.join(tmp, 'out'));
    const files: EntryFile['files'] = {};
    for (const rel of await filesUnder(path.join(tmp, 'out'))) {
      const f = path.join(tmp, 'out', rel);
      files[rel] = { size: (await stat(f)).size, sha256: await sha256File(f) };
    }
    const doc: EntryFile = { format: FORMAT, stage, key, files, meta };
    await writeFile(path.join(tmp, 'entry.json'), JSON.stringify(doc, null, 2) + '\n');
    await rm(entry, { recursive: true, force: true });
    await rename(tmp, entry).catch(async (e) => {
      // Another build of the same inputs kept the entry first: theirs is as good.
      await rm(tmp, { recursive: true, force: true });
      if (!(await verified(entry, stage, key))) throw e;
    });
    return { dir: path.join(entry, 'out'), meta, files, hit: false };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
