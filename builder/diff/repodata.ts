// Packages shipped in an RPM repository on the media, read from repodata/repomd.xml and
// the primary metadata it points at. Only name, arch, epoch, version, release and the
// package's file location are needed, so a small tag scanner does instead of an XML
// library.
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { DiffError } from './errors.js';
import type { Evr } from './rpmvercmp.js';

export interface ShippedPackage extends Evr {
  name: string;
  arch: string;
  /** Path of the .rpm on the media ("/BaseOS/Packages/b/bash-5.1.8-6.el9.x86_64.rpm"). */
  file: string;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m ? unescapeXml(m[2] ?? m[3]) : undefined;
}

/** The primary metadata's location (relative to the repository root) from repomd.xml. */
export function primaryHref(repomd: string, where: string): string {
  const re = /<data\s+type\s*=\s*["']primary["'][^>]*>([\s\S]*?)<\/data>/;
  const m = re.exec(repomd);
  const loc = m && /<location\b[^>]*>/.exec(m[1]);
  const href = loc && attr(loc[0], 'href');
  if (!href) throw new DiffError(`${where}: no <data type="primary"> with a <location href> in repomd.xml; regenerate the repository with createrepo_c.`);
  return href;
}

/** Undo the compression named by the file's suffix (createrepo_c uses gz or zst; xz and bz2 are older choices). */
export async function decompress(bytes: Buffer, name: string): Promise<Buffer> {
  try {
    if (name.endsWith('.gz')) return gunzipSync(bytes);
    const tool = name.endsWith('.zst') ? ['zstd', '-dc'] : name.endsWith('.xz') ? ['xz', '-dc'] : name.endsWith('.bz2') ? ['bzip2', '-dc'] : null;
    if (!tool) return bytes;
    const r = await execa(tool[0], tool.slice(1), { input: bytes, encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(r.stdout);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ENOENT') throw new DiffError(`${name}: needs the ${name.split('.').pop()} decompressor; install it (apt-get install zstd xz-utils bzip2).`);
    throw new DiffError(`${name}: cannot decompress: ${err.message.split('\n')[0]}`);
  }
}

/** Packages listed in primary.xml; `repoRoot` is the repository's path on the media. */
export function parsePrimary(xml: string, repoRoot: string, where: string): ShippedPackage[] {
  const out: ShippedPackage[] = [];
  const pkgRe = /<package\b[^>]*>([\s\S]*?)<\/package>/g;
  let m: RegExpExecArray | null;
  while ((m = pkgRe.exec(xml))) {
    const body = m[1];
    const name = /<name>([^<]*)<\/name>/.exec(body)?.[1];
    const arch = /<arch>([^<]*)<\/arch>/.exec(body)?.[1];
    const ver = /<version\b[^>]*\/?>/.exec(body)?.[0];
    const loc = /<location\b[^>]*\/?>/.exec(body)?.[0];
    if (!name || !arch || !ver || !loc) {
      const line = xml.slice(0, m.index).split('\n').length;
      throw new DiffError(`${where}:${line}: <package> without name, arch, version or location; regenerate the repository with createrepo_c.`);
    }
    const href = attr(loc, 'href') ?? '';
    out.push({
      name: unescapeXml(name),
      arch: unescapeXml(arch),
      epoch: Number(attr(ver, 'epoch') ?? '0') || 0,
      version: attr(ver, 'ver') ?? '',
      release: attr(ver, 'rel') ?? '',
      file: joinMedia(repoRoot, href),
    });
  }
  return out;
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
    packages.push(...parsePrimary(xml, root, `${where}:${primaryPath}`));
  }
  return { repos, packages };
}
