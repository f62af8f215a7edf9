// Fixture builders for the diff tests and the benchmark: small RPMs (rpmbuild), repos
// (createrepo_c), file trees with an xsbuild-style manifest, and ISOs (xorriso).
// Everything is generated into temp dirs; nothing is committed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import type { BootEntry, Manifest, ManifestLayer } from '../../builder/manifest-types.js';

export const EPOCH = 1700000000;

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `xsdiff-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface RpmSpec {
  name: string;
  version: string;
  release: string;
  epoch?: number;
}

/** Build a tiny noarch RPM with rpmbuild; returns its path. */
export async function buildRpm(work: string, p: RpmSpec): Promise<string> {
  const top = join(work, 'rpmbuild');
  const spec = join(work, `${p.name}-${p.version}-${p.release}.spec`);
  await mkdir(top, { recursive: true });
  await writeFile(spec, [
    `Name: ${p.name}`,
    ...(p.epoch ? [`Epoch: ${p.epoch}`] : []),
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    'Summary: test package',
    'License: MIT',
    'BuildArch: noarch',
    '%description',
    'test package',
    '%files',
    '',
  ].join('\n'));
  await execa('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', '_build_id_links none',
    '--define', 'use_source_date_epoch_as_buildtime 1', '--define', 'clamp_mtime_to_source_date_epoch 1', spec],
    { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
  return join(top, 'RPMS', 'noarch', `${p.name}-${p.version}-${p.release}.noarch.rpm`);
}

/** Copy RPMs into `<root><repo>/Packages` and run createrepo_c there. */
export async function makeRepo(root: string, repo: string, rpms: string[], compress: 'gz' | 'zstd' | 'xz' | 'bz2' = 'gz'): Promise<void> {
  const dir = join(root, repo);
  await mkdir(join(dir, 'Packages'), { recursive: true });
  for (const r of rpms) await cp(r, join(dir, 'Packages', r.split('/').pop()!));
  await execa('createrepo_c', ['-q', '--no-database', '--revision', String(EPOCH), '--set-timestamp-to-revision',
    '--general-compress-type', compress === 'zstd' ? 'gz' : compress, dir], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
  if (compress === 'zstd') await primaryToZstd(dir);
}

/**
 * Debian's createrepo_c (0.17) cannot write zstd, which newer ones use by default:
 * recompress primary.xml.gz as .zst and point repomd.xml at it, as they would.
 */
async function primaryToZstd(dir: string): Promise<void> {
  const md = join(dir, 'repodata', 'repomd.xml');
  const text = await readFile(md, 'utf8');
  const href = /href="(repodata\/[^"]*-primary\.xml\.gz)"/.exec(text)![1];
  const xml = gunzipSync(await readFile(join(dir, href)));
  const zst = href.replace(/\.gz$/, '.zst');
  const { stdout } = await execa('zstd', ['-q', '-c'], { input: xml, encoding: 'buffer' });
  await writeFile(join(dir, zst), stdout);
  await rm(join(dir, href));
  await writeFile(md, text.replace(href, zst));
}

export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const full = join(root, p);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every regular file under `root` as "/rel/path", sorted. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push('/' + relative(root, full).split('\\').join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

export interface ReleaseMeta {
  site: string;
  release: string;
  volumeId: string;
  layers: ManifestLayer[];
  packages: string[];
  bootEntries: BootEntry[];
  library: string[];
  kickstart?: string;
}

/** A manifest for the tree at `root`, as the builder would write it, into /.xsbuild/manifest.json. */
export async function writeManifest(root: string, meta: ReleaseMeta): Promise<Manifest> {
  const files: Manifest['files'] = [];
  for (const p of (await listTree(root)).filter((p) => !p.startsWith('/.xsbuild/'))) {
    files.push({ path: p, size: (await stat(join(root, p))).size, sha256: await sha256File(join(root, p)) });
  }
  const ksPath = meta.kickstart ?? '/ks.cfg';
  const manifest: Manifest = {
    manifestVersion: 1,
    site: meta.site,
    release: meta.release,
    sourceDateEpoch: EPOCH,
    volumeId: meta.volumeId,
    base: { kind: 'demo', version: '1', sha256: '0'.repeat(64) },
    layers: meta.layers,
    kickstart: { path: ksPath, sha256: await sha256File(join(root, ksPath)) },
    bootEntries: meta.bootEntries,
    packages: meta.packages,
    library: meta.library.map((dest) => {
      const under = files.filter((f) => f.path.startsWith(dest + '/'));
      return { dest, files: under.length, bytes: under.reduce((n, f) => n + f.size, 0) };
    }),
    files,
    tools: { xorriso: '1.5.4' },
  };
  await writeTree(root, { '.xsbuild/manifest.json': JSON.stringify(manifest, null, 2) });
  return manifest;
}

/** Master `root` into an ISO with Rock Ridge and Joliet, reproducibly. */
export async function makeIso(root: string, out: string, volumeId: string, extra: string[] = []): Promise<void> {
  // xorriso takes file dates from the tree: clamp them so equal trees give equal bytes.
  await execa('find', [root, '-exec', 'touch', '-h', '-d', `@${EPOCH}`, '{}', '+']);
  await execa('xorriso', ['-no_rc', '-local_charset', 'UTF-8', '-as', 'mkisofs', '-quiet', '-R', '-J', '-V', volumeId, ...extra, '-o', out, root], {
    env: { SOURCE_DATE_EPOCH: String(EPOCH) },
  });
}

export async function readText(p: string): Promise<string> {
  return readFile(p, 'utf8');
}
