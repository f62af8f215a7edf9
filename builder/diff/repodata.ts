// Packages shipped in an RPM repository on the media, read from repodata/repomd.xml and
// the primary metadata it points at (parsed by lib/repodata.ts).
import { decompress, parsePrimary, primaryHref } from '../../lib/repodata.js';
import { DiffError } from './errors.js';
import type { Evr } from './rpmvercmp.js';

export interface ShippedPackage extends Evr {
  name: string;
  arch: string;
  /** Path of the .rpm on the media ("/BaseOS/Packages/b/bash-5.1.8-6.el9.x86_64.rpm"). */
  file: string;
}

/** Join a media directory and a relative href, resolving "." and ".." segments. */
export function joinMedia(dir: string, rel: string): string {
  const parts = (rel.startsWith('/') ? rel : `${dir}/${rel}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

/** Repository roots on the media: every directory holding repodata/repomd.xml. */
export function findRepos(paths: Iterable<string>): string[] {
  const roots: string[] = [];
  for (const p of paths) {
    if (p.endsWith('/repodata/repomd.xml')) roots.push(p.slice(0, -'/repodata/repomd.xml'.length) || '/');
  }
  return roots.sort();
}

/** Read every repository on the media through `read` (a file reader on the ISO). */
export async function readShipped(
  paths: Iterable<string>,
  read: (path: string) => Promise<Buffer | null>,
  where: string,
): Promise<{ repos: string[]; packages: ShippedPackage[] }> {
  const repos = findRepos(paths);
  const packages: ShippedPackage[] = [];
  for (const root of repos) {
    const mdPath = joinMedia(root, 'repodata/repomd.xml');
    const md = await read(mdPath);
    if (!md) throw new DiffError(`${where}: ${mdPath} is listed but cannot be read from the image.`);
    const href = primaryHref(md.toString('utf8'), `${where}:${mdPath}`);
    const primaryPath = joinMedia(root, href);
    const raw = await read(primaryPath);
    if (!raw) throw new DiffError(`${where}: ${mdPath} points at ${primaryPath}, which is not on the image; regenerate the repository.`);
    const xml = (await decompress(raw, `${where}:${primaryPath}`)).toString('utf8');
    for (const p of parsePrimary(xml, `${where}:${primaryPath}`)) {
      packages.push({ name: p.name, arch: p.arch, epoch: p.epoch, version: p.version, release: p.release, file: joinMedia(root, p.href) });
    }
  }
  return { repos, packages };
}
