// `xsbuild bundle`: an offline copy of the newest release for a USB stick. Same layout
// as the repository (agent/pull/format.ts), holding the signed metadata and only the
// chunks a school at release --since lacks (or all of them). Chunks go first and
// bundle.json last; reports/ that servers wrote onto the stick are kept.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { loadSite } from '../site.js';
import { BuildError, InputError } from '../errors.js';
import { verifyRelease, TrustError } from '../../agent/pull/trust.js';
import { BUNDLE_FILE, RELEASE_FILE, ROOT_FILE, chunkPath, releaseChunks, releasePath, rootPath, type BundleInfo } from '../../agent/pull/format.js';
import { readRepo, verifyRootChain, writeAtomic, prettyEnvelope } from './store.js';
import { isoTime } from './publish.js';

export interface BundleResult {
  dir: string;
  version: number;
  since: number | null;
  chunks: number;
  bytes: number;
  releaseBytes: number;
}

export async function bundle(o: { site: string; repo: string; to: string; since?: number }): Promise<BundleResult> {
  const site = await loadSite(o.site);
  const key = site.data.updates?.publicKey;
  if (!key) throw new InputError({ file: site.file }, 'updates: missing', 'add `updates: { url, publicKey }` to the site', 'updates');
  const repo = path.resolve(o.repo);
  const to = path.resolve(o.to);
  const state = await readRepo(repo);
  const root = verifyRootChain(state.roots, key, repo);
  if (!state.latest) throw new InputError({ file: repo }, `--repo: no ${RELEASE_FILE}`, `publish first: xsbuild publish ${o.site} --repo ${o.repo} --key KEY`);
  let latest;
  let base = new Map<string, number>();
  try {
    latest = verifyRelease(root, state.latest, path.join(repo, RELEASE_FILE));
    if (o.since !== undefined && o.since > 0) {
      const env = state.releases.get(o.since);
      if (!env) throw new InputError({ file: 'command line' }, `--since ${o.since}: the repository has no ${releasePath(o.since)}`, `choose one of: ${[...state.releases.keys()].sort((a, b) => a - b).join(', ')}, or leave --since out for a full bundle`);
      base = releaseChunks(verifyRelease(root, env, path.join(repo, releasePath(o.since))));
    }
  } catch (e) {
    if (e instanceof TrustError) throw new BuildError(e.message, e.hint);
    throw e;
  }
  const need = releaseChunks(latest);
  for (const id of base.keys()) need.delete(id);
  // Layer scripts are not files on the server (no seed holds them) and run whenever their
  // layer changes: a bundle always carries them. They are small.
  for (const l of latest.layers) for (const [id, n] of l.script?.chunks ?? []) need.set(id, n);

  await mkdir(to, { recursive: true });
  let bytes = 0;
  for (const [id, size] of need) {
    const dst = path.join(to, chunkPath(id));
    const have = await stat(dst).catch(() => undefined);
    bytes += size;
    if (have?.size === size) continue;
    const data = await readFile(path.join(repo, chunkPath(id))).catch(() => {
      throw new BuildError(`${path.join(repo, chunkPath(id))}: chunk missing from the repository`, 'republish the site (publish restores missing chunks of unchanged content only when it writes a new release; use --refresh)');
    });
    if (data.length !== size || createHash('sha256').update(data).digest('hex') !== id) {
      throw new BuildError(`${path.join(repo, chunkPath(id))}: chunk is damaged (sha256 mismatch)`, 'delete it and publish again with --refresh to restore it');
    }
    await writeAtomic(dst, data);
  }
  // Chunks of an earlier bundle on the same stick that this one does not need.
  await pruneChunks(to, need);
  for (const env of state.roots) await writeAtomic(path.join(to, rootPath(env.signed.version)), prettyEnvelope(env));
  await writeAtomic(path.join(to, ROOT_FILE), prettyEnvelope(state.roots[state.roots.length - 1]!));
  const text = prettyEnvelope(state.latest);
  await writeAtomic(path.join(to, releasePath(latest.version)), text);
  await writeAtomic(path.join(to, RELEASE_FILE), text);
  const info: BundleInfo = { _type: 'xs-bundle', site: latest.site, version: latest.version, since: o.since ?? null, chunks: need.size, bytes, created: isoTime(Date.now()) };
  await writeAtomic(path.join(to, BUNDLE_FILE), JSON.stringify(info, null, 1) + '\n');
  return { dir: to, version: latest.version, since: o.since ?? null, chunks: need.size, bytes, releaseBytes: Buffer.byteLength(text) };
}

async function pruneChunks(to: string, keep: Map<string, number>): Promise<void> {
  const top = path.join(to, 'chunks');
  for (const d of await readdir(top).catch(() => [] as string[])) {
    const dir = path.join(top, d);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const m = /^([0-9a-f]{64})\.chk$/.exec(f);
      if (!m || !keep.has(m[1]!)) await rm(path.join(dir, f), { force: true });
    }
    await rmdir(dir).catch(() => undefined);
  }
  // Old release files of earlier bundles are not needed either.
  for (const f of await readdir(path.join(to, 'releases')).catch(() => [] as string[])) await rm(path.join(to, 'releases', f), { force: true });
}
