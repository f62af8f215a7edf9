// `xsbuild bundle`: an offline copy of the newest release for a USB stick. Same layout
// as the repository (agent/pull/format.ts), holding the signed metadata and only the
// chunks a school at release --since lacks (or all of them). Where the release's signed
// deltas rebuild a chunk from chunks the school has (its base is in release --since), the
// bundle carries the delta instead of the chunk. Chunks go first and bundle.json last;
// reports/ that servers wrote onto the stick are kept.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { loadSite } from '../site.js';
import { BuildError, InputError } from '../errors.js';
import { verifyDeltas, verifyRelease, TrustError } from '../../agent/pull/trust.js';
import { BUNDLE_FILE, RELEASE_FILE, ROOT_FILE, checkDeltas, chunkPath, deltaPath, deltasPath, parseEnvelope, releaseChunks, releasePath, rootPath, FormatError, type BundleInfo, type DeltaEntry, type DeltasDoc, type ReleaseDoc, type RootDoc } from '../../agent/pull/format.js';
import { readRepo, verifyRootChain, writeAtomic, prettyEnvelope } from './store.js';
import { isoTime } from './publish.js';

export interface BundleResult {
  dir: string;
  version: number;
  since: number | null;
  chunks: number;
  /** Chunks carried as deltas (their bytes are in `bytes`). */
  deltas: number;
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
      const env = await state.release(o.since);
      if (!env) throw new InputError({ file: 'command line' }, `--since ${o.since}: the repository has no ${releasePath(o.since)}`, `choose one of: ${[...state.releases].sort((a, b) => a - b).join(', ')}, or leave --since out for a full bundle`);
      base = releaseChunks(verifyRelease(root, env, path.join(repo, releasePath(o.since))));
    }
  } catch (e) {
    if (e instanceof TrustError) throw new BuildError(e.message, e.hint);
    throw e;
  }
  const need = releaseChunks(latest);
  for (const id of base.keys()) need.delete(id);
  const deltas = base.size > 0 ? await usableDeltas(repo, root, latest, need, base) : { entries: [], text: undefined };
  for (const e of deltas.entries) need.delete(e.chunk);
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
  for (const e of deltas.entries) {
    const dst = path.join(to, deltaPath(e.delta));
    bytes += e.deltaSize;
    if ((await stat(dst).catch(() => undefined))?.size === e.deltaSize) continue;
    const src = path.join(repo, deltaPath(e.delta));
    const data = await readFile(src).catch(() => undefined);
    if (!data || data.length !== e.deltaSize || createHash('sha256').update(data).digest('hex') !== e.delta) {
      throw new BuildError(`${src}: delta missing or damaged (sha256 mismatch)`, 'publish again with --refresh, or write a full bundle (without --since)');
    }
    await writeAtomic(dst, data);
  }
  // Chunks and deltas of an earlier bundle on the same stick that this one does not need.
  await prune(to, 'chunks', /^([0-9a-f]{64})\.chk$/, new Set(need.keys()));
  await prune(to, 'deltas', /^([0-9a-f]{64})\.dlt$/, new Set(deltas.entries.map((e) => e.delta)));
  for (const env of state.roots) await writeAtomic(path.join(to, rootPath(env.signed.version)), prettyEnvelope(env));
  await writeAtomic(path.join(to, ROOT_FILE), prettyEnvelope(state.roots[state.roots.length - 1]!));
  if (deltas.text !== undefined && deltas.entries.length > 0) await writeAtomic(path.join(to, deltasPath(latest.version)), deltas.text);
  const text = prettyEnvelope(state.latest);
  await writeAtomic(path.join(to, releasePath(latest.version)), text);
  await writeAtomic(path.join(to, RELEASE_FILE), text);
  const info: BundleInfo = { _type: 'xs-bundle', site: latest.site, version: latest.version, since: o.since ?? null, chunks: need.size, deltas: deltas.entries.length, bytes, created: isoTime(Date.now()) };
  await writeAtomic(path.join(to, BUNDLE_FILE), JSON.stringify(info, null, 1) + '\n');
  return { dir: to, version: latest.version, since: o.since ?? null, chunks: need.size, deltas: deltas.entries.length, bytes, releaseBytes: Buffer.byteLength(text) };
}

/**
 * Deltas of the newest release whose chunk the school lacks and whose base it has (every
 * base chunk is in its release), with the deltas document's text to copy as it is.
 */
async function usableDeltas(repo: string, root: RootDoc, latest: ReleaseDoc, need: Map<string, number>, have: Map<string, number>): Promise<{ entries: DeltaEntry[]; text?: string }> {
  const file = path.join(repo, deltasPath(latest.version));
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { entries: [] };
  let doc: DeltasDoc;
  try {
    const env = parseEnvelope(text, file);
    doc = verifyDeltas(root, { signed: checkDeltas(env.signed, file), signatures: env.signatures }, latest, file);
  } catch (e) {
    if (e instanceof FormatError || e instanceof TrustError) throw new BuildError(`${e.message}`, 'publish again with --refresh to rewrite it, or write a full bundle (without --since)');
    throw e;
  }
  const entries = doc.deltas.filter((e) => need.get(e.chunk) === e.size && e.base.every(([id, n]) => have.get(id) === n));
  return { entries, text };
}

async function prune(to: string, sub: string, name: RegExp, keep: Set<string>): Promise<void> {
  const top = path.join(to, sub);
  for (const d of await readdir(top).catch(() => [] as string[])) {
    const dir = path.join(top, d);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const m = name.exec(f);
      if (!m || !keep.has(m[1]!)) await rm(path.join(dir, f), { force: true });
    }
    await rmdir(dir).catch(() => undefined);
  }
  if (sub !== 'chunks') return;
  // Old release files of earlier bundles are not needed either.
  for (const f of await readdir(path.join(to, 'releases')).catch(() => [] as string[])) await rm(path.join(to, 'releases', f), { force: true });
}
