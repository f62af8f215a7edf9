// Packages listed in a repository's primary metadata: NEVRA, file and checksum. A tag
// scanner is enough for createrepo's regular output; no XML library needed.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { BuildError } from '../errors.js';

export interface PrimaryPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** Path relative to the repository root ("Packages/b/bash-5.1.8-6.el9.x86_64.rpm"). */
  href: string;
  checksumType: string;
  checksum: string;
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]) : undefined;
};

export async function readPrimary(repoDir: string): Promise<PrimaryPackage[]> {
  const repomd = await readFile(path.join(repoDir, 'repodata', 'repomd.xml'), 'utf8');
  const block = /<data\s+type="primary">([\s\S]*?)<\/data>/.exec(repomd)?.[1];
  const href = block && attr(/<location\b[^>]*>/.exec(block)?.[0] ?? '', 'href');
  if (!href) throw new BuildError(`${repoDir}/repodata/repomd.xml names no primary metadata`);
  let data = await readFile(path.join(repoDir, href));
  if (href.endsWith('.gz')) data = gunzipSync(data);
  else if (!href.endsWith('.xml')) throw new BuildError(`${repoDir}/${href}: only gzip or plain primary metadata is read`, 'regenerate the repository with createrepo_c --general-compress-type gz');
  const xml = data.toString('utf8');
  const out: PrimaryPackage[] = [];
  for (const m of xml.matchAll(/<package\b[^>]*type="rpm"[^>]*>([\s\S]*?)<\/package>/g)) {
    const body = m[1];
    const name = unescape(/<name>([^<]*)<\/name>/.exec(body)?.[1] ?? '');
    const arch = /<arch>([^<]*)<\/arch>/.exec(body)?.[1] ?? '';
    const ver = /<version\b[^>]*>/.exec(body)?.[0] ?? '';
    const sum = /<checksum\b([^>]*)>([^<]*)<\/checksum>/.exec(body);
    out.push({
      name,
      arch,
      epoch: Number(attr(ver, 'epoch') ?? 0) || 0,
      version: attr(ver, 'ver') ?? '',
      release: attr(ver, 'rel') ?? '',
      href: attr(/<location\b[^>]*>/.exec(body)?.[0] ?? '', 'href') ?? '',
      checksumType: (sum && attr(sum[1], 'type')) ?? '',
      checksum: sum?.[2] ?? '',
    });
  }
  return out;
}
