// `xsbuild publish`: write release N+1 of a site into a static update repository.
// Content is chunked and stored by sha256 (only chunks the repository lacks are written),
// then the release metadata is signed and written, release.json last. A site whose
// content did not change gets no new release (unless --refresh: same content, new expiry).
// Chunks new in this release also get deltas against the previous release's chunks
// (builder/updates/deltas.ts), listed in a signed releases/<n>.deltas.json.
// A file's chunk list is remembered by the file's identity (builder/cache/identity.ts,
// namespace 'chunks'): a library file that did not change is not read again, as long as
// the repository still has its chunks; --refresh reads and checks everything.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { validateSite, type Validated } from '../pipeline.js';
import { InputError, BuildError } from '../errors.js';
import { takeLock } from '../lock.js';
import { chunkFile, chunkBuffer, CHUNKER, type ChunkedFile } from '../../agent/pull/chunker.js';
import { IdentityCache } from '../cache/identity.js';
import { canonical } from '../../agent/pull/canonical.js';
import { signDoc } from '../../agent/pull/sign.js';
import { releaseDigest } from '../../agent/pull/trust.js';
import { makeDeltas, readDeltaEntries } from './deltas.js';
import { SPEC, rootPath, releasePath, deltasPath, ROOT_FILE, RELEASE_FILE, type DeltasDoc, type FileRef, type ReleaseDoc, type ReleaseFile, type RootDoc } from '../../agent/pull/format.js';
import { loadSigningKey, type SigningKey } from './keys.js';
import { ObjectStore, readRepo, syncFileSystem, verifyRootChain, writeAtomic, prettyEnvelope } from './store.js';
import { gatherContent, type ContentFile } from './content.js';
import type { RecipientsFile } from '../../agent/fleet/wire.js';

export interface PublishOptions {
  site: string;
  repo: string;
  keyFile: string;
  /** Days until the release metadata expires (default 30). */
  expiresDays?: number;
  /** Days until a new root expires (default 3650). */
  rootExpiresDays?: number;
  packagesDir?: string;
  /** Sealed per-host files (builder/updates/sealed.ts); needs `recipientsFile`. */
  privateDir?: string;
  recipientsFile?: string;
  refresh?: boolean;
  info?: (m: string) => void;
  now?: Date;
}

export interface PublishResult {
  version: number;
  changed: boolean;
  files: number;
  chunks: number;
  bytes: number;
  newChunks: number;
  newBytes: number;
  /** Files chunked (read) by this publish, and files whose chunk list came from the cache (not opened). */
  filesRead: number;
  filesCached: number;
  /** Chunks that can also be fetched as deltas, those chunks' bytes, the deltas' bytes. */
  deltas: number;
  deltaChunkBytes: number;
  deltaBytes: number;
  /** Sealed files in the release, and hosts skipped for lack of a recipient. */
  sealed?: number;
  sealedSkipped?: string[];
  seconds: number;
}

const DAY = 86400_000;

export function isoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function publish(o: PublishOptions): Promise<PublishResult> {
  const t0 = Date.now();
  const now = (o.now ?? new Date()).getTime();
  const v = await validateSite({ site: o.site });
  const updates = v.site.data.updates;
  if (!updates) {
    throw new InputError({ file: v.site.file }, 'updates: missing; publishing needs the key servers trust', 'add `updates: { url: ..., publicKey: ... }` (the publicKey is the xs-update.pub written by `xsbuild keys generate`)', 'updates');
  }
  if ((o.privateDir === undefined) !== (o.recipientsFile === undefined)) {
    throw new InputError({ file: 'command line' }, '--private DIR and --recipients FILE go together', 'give both: the hosts\' files and the recipients file written by `xsbuild fleet recipients`');
  }
  // Loaded only for sealed files: the age library is a fifth of publish's start-up.
  const recipients = o.recipientsFile ? await (await import('./sealed.js')).readRecipients(o.recipientsFile, v.site.data.site) : undefined;
  const key = await loadSigningKey(o.keyFile);
  const repo = path.resolve(o.repo);
  await mkdir(repo, { recursive: true });
  const lock = await takeLock(path.join(repo, '.publish.lock'), `repository ${repo}`);
  try {
    // Both read the repository: the chunk listing overlaps the documents' parsing.
    const listing = ObjectStore.chunks(repo);
    listing.catch(() => undefined);
    const state = await readRepo(repo);
    let root: RootDoc;
    if (state.roots.length === 0) {
      if (key.publicKey !== updates.publicKey) {
        throw new InputError(
          v.site.pos(['updates', 'publicKey']),
          `--key ${o.keyFile} (public ${key.publicKey}) is not the key servers trust (updates.publicKey)`,
          'publish with the private key matching updates.publicKey; after a rotation (`xsbuild keys rotate`) the new key is accepted',
          'updates.publicKey',
        );
      }
      root = { _type: 'xs-root', spec: SPEC, site: v.site.data.site, version: 1, expires: isoTime(now + (o.rootExpiresDays ?? 3650) * DAY), keys: { [key.keyid]: key.publicKey }, threshold: 1 };
      const env = signDoc(root, [key]);
      await writeAtomic(path.join(repo, rootPath(1)), prettyEnvelope(env));
      await writeAtomic(path.join(repo, ROOT_FILE), prettyEnvelope(env));
      o.info?.(`new root of trust: ${rootPath(1)} (key ${key.keyid.slice(0, 16)})`);
    } else {
      root = verifyRootChain(state.roots, updates.publicKey, repo);
      checkRootForKey(root, key, v.site.data.site, repo, now);
    }

    const last = state.latest?.signed;
    const chunks = await listing;
    const { body, stats, sealedInfo } = await assembleRelease(v, o, recipients, last, chunks);
    // Every chunk written before the deltas are made from them; one syncfs below makes
    // the chunks and the deltas durable before any document names them.
    const wroteChunks = await chunks.settle();
    if (last && sameContent(last, body) && !o.refresh) {
      if (wroteChunks) await syncFileSystem(repo);
      return { version: last.version, changed: false, ...publishStats(stats), deltas: 0, deltaChunkBytes: 0, deltaBytes: 0, ...sealedInfo, seconds: (Date.now() - t0) / 1000 };
    }
    const version = Math.max(last?.version ?? 0, ...state.releases) + 1;
    const doc: ReleaseDoc = { ...body, version, created: isoTime(now), expires: isoTime(now + (o.expiresDays ?? 30) * DAY) };
    // Deltas before the release files: a client that sees the release can use them.
    const d = await makeDeltas(repo, last, last ? await readDeltaEntries(repo, last.version) : [], body);
    if (wroteChunks || d.stats.wrote) await syncFileSystem(repo);
    if (d.entries.length > 0) {
      const dd: DeltasDoc = { _type: 'xs-deltas', spec: SPEC, site: doc.site, version, release: releaseDigest(doc), deltas: d.entries };
      // Compact: one line per entry would double the bytes every pull downloads.
      await writeAtomic(path.join(repo, deltasPath(version)), JSON.stringify(signDoc(dd, [key])) + '\n');
    }
    const env = signDoc(doc, [key]);
    const text = prettyEnvelope(env);
    await writeAtomic(path.join(repo, releasePath(version)), text);
    await writeAtomic(path.join(repo, RELEASE_FILE), text);
    return { version, changed: true, ...publishStats(stats), deltas: d.stats.deltas, deltaChunkBytes: d.stats.chunkBytes, deltaBytes: d.stats.deltaBytes, ...sealedInfo, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await lock.release();
  }
}

const publishStats = ({ reusedChunks: _c, reusedBytes: _b, ...s }: AssembleStats) => s;

type ReleaseBody = Omit<ReleaseDoc, 'version' | 'created' | 'expires'>;

/** Whether `body` would publish the same content as release `last` (number and dates aside). */
export function sameContent(last: ReleaseDoc, body: ReleaseBody): boolean {
  const { version: _v, created: _c, expires: _e, ...rest } = last;
  // Deep equality (key order aside) first: at library scale both documents are megabytes,
  // and writing both out canonically was a sixth of an unchanged publish. When they
  // differ by it (a field present but undefined), the canonical forms decide.
  return isDeepStrictEqual(rest, body) || canonical(rest) === canonical(body);
}

/** Where a release's chunks go: publish stores new ones, a dry run only looks them up. */
export interface ChunkSink {
  /** Whether the repository has the chunk (by name). */
  has(id: string): boolean;
  /** Store (or look up) a chunk; true when it is new to the repository. May copy `data` and return before it is written. */
  put(id: string, data: Uint8Array): Promise<boolean>;
}

/** What the identity cache keeps per file: its chunk list, and which chunker cut it. */
interface CachedChunks extends FileRef {
  chunker: string;
}

/**
 * A cache entry of the right form, cut by this chunker, whose chunks the repository has
 * (which also checks every chunk id): anything else is a miss, and the file is read.
 */
function usable(v: CachedChunks | undefined, has: (id: string) => boolean): v is CachedChunks {
  if (!v || v.chunker !== CHUNKER || typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256) || !Array.isArray(v.chunks)) return false;
  let total = 0;
  for (const c of v.chunks as unknown[]) {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || !Number.isInteger(c[1]) || c[1] <= 0 || !has(c[0])) return false;
    total += c[1] as number;
  }
  return total === v.size;
}

export interface AssembleStats {
  files: number;
  chunks: number;
  bytes: number;
  newChunks: number;
  newBytes: number;
  /** Distinct chunks the repository already had. */
  reusedChunks: number;
  reusedBytes: number;
  filesRead: number;
  filesCached: number;
}

/**
 * Everything of release N+1 but its number and dates: every file chunked (or its chunk
 * list taken from the identity cache when the file is unchanged and the repository has
 * all its chunks), each new chunk handed to `sink`.
 */
export async function assembleRelease(
  v: Validated,
  o: Pick<PublishOptions, 'packagesDir' | 'privateDir' | 'info' | 'refresh'>,
  recipients: RecipientsFile | undefined,
  last: ReleaseDoc | undefined,
  sink: ChunkSink,
): Promise<{ body: ReleaseBody; stats: AssembleStats; sealedInfo?: { sealed: number; sealedSkipped: string[] } }> {
  const content = await gatherContent(v, { packagesDir: o.packagesDir, info: o.info });
  const cache = await IdentityCache.open<CachedChunks>(path.join(v.site.root, '.cache'), 'chunks');
  try {
    const stats: AssembleStats = { files: 0, chunks: 0, bytes: 0, newChunks: 0, newBytes: 0, reusedChunks: 0, reusedBytes: 0, filesRead: 0, filesCached: 0 };
    const seen = new Set<string>();
    const count = (id: string, size: number): boolean => {
      stats.chunks++;
      stats.bytes += size;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    };
    const store = async (id: string, data: Uint8Array) => {
      if (!count(id, data.length)) return;
      if (await sink.put(id, data)) {
        stats.newChunks++;
        stats.newBytes += data.length;
      } else {
        stats.reusedChunks++;
        stats.reusedBytes += data.length;
      }
    };
    const ref = (c: ChunkedFile): FileRef => ({ size: c.size, sha256: c.sha256, chunks: c.chunks.map((x) => [x.id, x.size]) });
    // Every file's identity up front, all at once: one lstat at a time, each a round trip
    // to the thread pool, was most of an unchanged publish (idle, waiting).
    const all = [...content.layers.flatMap((l) => l.files), ...content.library.flatMap((l) => l.files), ...(content.repo ?? [])];
    const looked = new Map(all.map((f) => [f.source, cache.get(f.source)]));
    for (const p of looked.values()) p.catch(() => undefined);
    const file = async (f: ContentFile): Promise<ReleaseFile> => {
      stats.files++;
      const { value, identity } = await (looked.get(f.source) ?? cache.get(f.source));
      if (!o.refresh && usable(value, (id) => sink.has(id))) {
        stats.filesCached++;
        for (const [id, n] of value.chunks) {
          if (!count(id, n)) continue;
          stats.reusedChunks++;
          stats.reusedBytes += n;
        }
        return { path: f.path, mode: f.mode, size: value.size, sha256: value.sha256, chunks: value.chunks };
      }
      stats.filesRead++;
      const r = ref(await chunkFile(f.source, (x, data) => store(x.id, data)));
      cache.set(f.source, identity, { chunker: CHUNKER, ...r });
      return { path: f.path, mode: f.mode, ...r };
    };
    const body: ReleaseBody = { _type: 'xs-release', spec: SPEC, site: v.site.data.site, release: v.site.release, layers: [], library: [] };
    for (const l of content.layers) {
      const files: ReleaseFile[] = [];
      for (const f of l.files) files.push(await file(f));
      const layer: ReleaseDoc['layers'][number] = { name: l.name, version: l.version, packages: l.packages, files };
      if (l.script !== undefined) {
        const data = Buffer.from(l.script);
        const c = chunkBuffer(data);
        let off = 0;
        for (const x of c.chunks) {
          await store(x.id, data.subarray(off, off + x.size));
          off += x.size;
        }
        layer.script = ref(c);
      }
      body.layers.push(layer);
    }
    for (const lib of content.library) {
      const files: ReleaseFile[] = [];
      for (const f of lib.files) files.push(await file(f));
      body.library.push({ dest: lib.dest, files });
    }
    if (content.repo) {
      const files: ReleaseFile[] = [];
      for (const f of content.repo) files.push(await file(f));
      body.repo = { files };
    }
    let sealedInfo: { sealed: number; sealedSkipped: string[] } | undefined;
    if (o.privateDir && recipients) {
      const { sealPrivateFiles } = await import('./sealed.js');
      const r = await sealPrivateFiles(path.resolve(o.privateDir), recipients, last, store, (m) => o.info?.(`warning: ${m}`));
      const placed = new Set([...body.layers.flatMap((l) => l.files.map((f) => f.path)), ...body.library.flatMap((l) => l.files.map((f) => `${l.dest.replace(/\/$/, '')}/${f.path}`))]);
      for (const s of r.sealed) {
        if (placed.has(s.path)) throw new InputError({ file: path.join(o.privateDir, s.host, s.path) }, `${s.path} is also a layer or library file of the release`, 'a path is placed by one thing only: move the private file or the layer file');
      }
      if (r.sealed.length) body.sealed = r.sealed;
      sealedInfo = { sealed: r.sealed.length, sealedSkipped: r.skipped };
    }
    // Losing the cache costs a re-read; saving it is not worth failing the publish over.
    await cache.save().catch((e: Error) => o.info?.(`warning: ${e.message} (the next publish reads the library again)`));
    return { body, stats, sealedInfo };
  } finally {
    await content.cleanup();
  }
}

function checkRootForKey(root: RootDoc, key: SigningKey, site: string, repo: string, now: number): void {
  const rootFile = path.join(repo, rootPath(root.version));
  if (root.site !== site) throw new BuildError(`${rootFile}: repository is for site "${root.site}", not "${site}"`, 'give each site its own --repo directory');
  if (!root.keys[key.keyid]) {
    throw new InputError(
      { file: key.file },
      `--key: this key (${key.keyid.slice(0, 16)}) is not a signing key of ${rootFile} (keys: ${Object.keys(root.keys).map((k) => k.slice(0, 16)).join(', ')})`,
      'publish with a key the root lists, or add this key with `xsbuild keys rotate --repo DIR --key OLD --new NEW`',
    );
  }
  if (root.threshold > 1) throw new BuildError(`${rootFile}: threshold ${root.threshold} needs ${root.threshold} keys; publish signs with one`, 'rotate to a root with threshold 1, or sign with the other keys by hand');
  if (Date.parse(root.expires) <= now) throw new BuildError(`${rootFile}: root expired on ${root.expires}`, 'renew it with `xsbuild keys rotate --repo DIR --key KEY --new KEY` (a new root version)');
}
