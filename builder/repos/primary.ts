// Packages listed in a repository directory's primary metadata (parsed by lib/repodata.ts).
// A repository that cannot be read ends the build (exit 1), as any failed build step does.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { FileFormatError } from '../../lib/errors.js';
import { decompress, parsePrimary, primaryHref, type PrimaryPackage } from '../../lib/repodata.js';
import { BuildError } from '../errors.js';

export type { PrimaryPackage };

export async function readPrimary(repoDir: string): Promise<PrimaryPackage[]> {
  try {
    const mdPath = path.join(repoDir, 'repodata', 'repomd.xml');
    const href = primaryHref(await readFile(mdPath, 'utf8'), mdPath);
    const file = path.join(repoDir, href);
    return parsePrimary((await decompress(await readFile(file), file)).toString('utf8'), file);
  } catch (e) {
    if (e instanceof FileFormatError) throw new BuildError(e.message);
    throw e;
  }
}
