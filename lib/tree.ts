// The regular files under a directory, as '/'-separated relative paths, in a stable
// order (names sorted at each level, depth first): what tree digests are taken over.
import path from 'node:path';
import { readdir } from 'node:fs/promises';

export async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}
