// The tree both servers serve in the serve benchmark: a hard-link copy of a site's
// netboot tree (no bytes duplicated, the original untouched) plus, because the demo base
// ships no package repository, a repo/ of 20 files with the sizes of a typical
// CentOS/XS package set, so each client fetches what an installing machine fetches:
// kernel, initrd(s) and packages.
import { randomBytes } from 'node:crypto';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { NetbootManifest } from '../builder/netboot/manifest.js';

/**
 * Sizes in KiB, from small noarch packages (config, scripts) to the big ones (kernel,
 * firmware, glibc-langpacks, the content-library packages): ~60 MiB in all.
 */
export const REPO_SIZES_KIB = [18, 35, 52, 76, 98, 140, 190, 260, 330, 420, 540, 700, 910, 1200, 1650, 2300, 3400, 5200, 13800, 30100];

export interface BenchTree {
  dir: string;
  /** URL paths one installing client fetches, in order. */
  paths: string[];
  /** Bytes one client fetches. */
  bytesPerClient: number;
}

/** Copy `netbootDir` into `dir` as hard links (plain copies across file systems). */
async function linkCopy(netbootDir: string, dir: string): Promise<void> {
  const r = await execa('cp', ['-a', '--link', `${netbootDir}/.`, dir], { reject: false });
  if (r.exitCode !== 0) await execa('cp', ['-a', `${netbootDir}/.`, dir]);
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const chunk = 1 << 20;
    for (let off = 0; off < size; off += chunk) await fh.write(randomBytes(Math.min(chunk, size - off)));
  } finally {
    await fh.close();
  }
}

export async function benchTree(netbootDir: string, dir: string, manifest: NetbootManifest): Promise<BenchTree> {
  await mkdir(dir, { recursive: true });
  await linkCopy(netbootDir, dir);
  await mkdir(path.join(dir, 'repo', 'Packages'), { recursive: true });
  const repo: string[] = [];
  for (const [i, kib] of REPO_SIZES_KIB.entries()) {
    const rel = `repo/Packages/bench-${String(i + 1).padStart(2, '0')}-1.0-1.el9.x86_64.rpm`;
    await writeRandomFile(path.join(dir, rel), kib * 1024);
    repo.push(rel);
  }
  const boot = [manifest.kernel, ...manifest.initrds];
  let bytes = 0;
  for (const rel of [...boot, ...repo]) bytes += (await stat(path.join(dir, rel))).size;
  return { dir, paths: [...boot, ...repo].map((p) => `/${p}`), bytesPerClient: bytes };
}
