// Chunk deltas for a new release. Content-defined chunking keeps unchanged regions as the
// same chunks, but each scattered edit still replaces one or two whole ~64 KiB chunks. For
// every chunk the previous release did not have, this finds the chunks of the same file's
// previous version that hold the same region (its base) and, when a delta against them is
// much smaller than the chunk, stores it as deltas/<ab>/<sha256>.dlt. Servers that have
// the base fetch the delta instead of the chunk; everyone else still fetches the chunk.
import path from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { checkDeltas, chunkPath, deltaPath, deltasPath, parseEnvelope, releaseChunks, type DeltaEntry, type FileRef, type ReleaseDoc } from '../../agent/pull/format.js';
import { encodeDelta, MAX_BASE } from '../../agent/pull/delta.js';
import { ObjectStore } from './store.js';

/** A delta must save at least this share of the chunk and at least MIN_SAVING bytes: a
 * delta is one more object to store and only helps servers that have its base. */
const MIN_SAVING_SHARE = 0.25;
const MIN_SAVING = 4096;
const MAX_BASE_CHUNKS = 8;

export interface DeltaStats {
  deltas: number;
  /** Bytes of the chunks the deltas replace, and of the deltas themselves. */
  chunkBytes: number;
  deltaBytes: number;
  newDeltaBytes: number;
  /** Delta files were written (they need a sync before a document names them). */
  wrote?: boolean;
}

/** Files keyed by where they land, so a file's previous version can be found. */
function filesByTarget(r: ReleaseDoc): Map<string, FileRef> {
  const m = new Map<string, FileRef>();
  for (const l of r.layers) for (const f of l.files) m.set(`file:${f.path}`, f);
  for (const lib of r.library) for (const f of lib.files) m.set(`file:${path.posix.join(lib.dest, f.path)}`, f);
  for (const f of r.repo?.files ?? []) m.set(`repo:${f.path}`, f);
  return m;
}

const offsets = (f: FileRef) => {
  const out: number[] = [];
  let o = 0;
  for (const [, n] of f.chunks) {
    out.push(o);
    o += n;
  }
  return out;
};

/**
 * The old chunks that most likely hold new chunk i's bytes. Unchanged chunks on either
 * side (anchors) tell how far the region moved (insertions and deletions shift it); the
 * old chunks overlapping the new chunk's range under either shift are the base, most
 * overlapping first, within MAX_BASE bytes, in file order.
 */
export function chooseBase(oldF: FileRef, newF: FileRef, i: number, oldPos: Map<string, number>, oldOff: number[], newOff: number[]): [string, number][] {
  const shiftAt = (j: number) => {
    const o = oldPos.get(newF.chunks[j]![0]);
    return o === undefined ? undefined : o - newOff[j]!;
  };
  let before: number | undefined;
  for (let j = i - 1; j >= 0 && before === undefined; j--) before = shiftAt(j);
  let after: number | undefined;
  for (let j = i + 1; j < newF.chunks.length && after === undefined; j++) after = shiftAt(j);
  const shifts = [...new Set([before ?? after ?? 0, after ?? before ?? 0])];
  const s = newOff[i]!;
  const e = s + newF.chunks[i]![1];
  const scored: { k: number; overlap: number }[] = [];
  for (let k = 0; k < oldF.chunks.length; k++) {
    const os = oldOff[k]!;
    const oe = os + oldF.chunks[k]![1];
    let overlap = 0;
    for (const sh of shifts) overlap += Math.max(0, Math.min(oe, e + sh) - Math.max(os, s + sh));
    if (overlap > 0) scored.push({ k, overlap });
  }
  scored.sort((a, b) => b.overlap - a.overlap || a.k - b.k);
  const pick: number[] = [];
  let bytes = 0;
  for (const { k } of scored) {
    const n = oldF.chunks[k]![1];
    if (pick.length >= MAX_BASE_CHUNKS || bytes + n > MAX_BASE) break;
    pick.push(k);
    bytes += n;
  }
  return pick.sort((a, b) => a - b).map((k) => oldF.chunks[k]!);
}

async function readChunk(repo: string, id: string, size: number): Promise<Buffer | undefined> {
  const b = await readFile(path.join(repo, chunkPath(id))).catch(() => undefined);
  if (!b || b.length !== size || createHash('sha256').update(b).digest('hex') !== id) return undefined;
  return b;
}

/**
 * Deltas for the chunks of `next` that `prev` lacks, written into the repository. Entries of
 * the previous deltas document whose chunk is still in `next` are kept (a server two
 * releases behind can still use them when it has their base).
 */
export async function makeDeltas(repo: string, prev: ReleaseDoc | undefined, prevDeltas: DeltaEntry[], next: Omit<ReleaseDoc, 'version' | 'created' | 'expires'>): Promise<{ entries: DeltaEntry[]; stats: DeltaStats }> {
  const stats: DeltaStats = { deltas: 0, chunkBytes: 0, deltaBytes: 0, newDeltaBytes: 0 };
  if (!prev) return { entries: [], stats };
  const had = releaseChunks(prev);
  const want = releaseChunks(next as ReleaseDoc);
  const entries = new Map<string, DeltaEntry>();
  const oldFiles = filesByTarget(prev);
  let store: ObjectStore | undefined;
  for (const [key, newF] of filesByTarget(next as ReleaseDoc)) {
    const oldF = oldFiles.get(key);
    if (!oldF || oldF.sha256 === newF.sha256) continue;
    const oldOff = offsets(oldF);
    const newOff = offsets(newF);
    const oldPos = new Map<string, number>();
    oldF.chunks.forEach(([id], k) => oldPos.has(id) || oldPos.set(id, oldOff[k]!));
    for (let i = 0; i < newF.chunks.length; i++) {
      const [id, size] = newF.chunks[i]!;
      if (had.has(id) || entries.has(id)) continue;
      const base = chooseBase(oldF, newF, i, oldPos, oldOff, newOff);
      if (base.length === 0) continue;
      const target = await readChunk(repo, id, size);
      const parts: Buffer[] = [];
      for (const [bid, bn] of base) {
        const b = await readChunk(repo, bid, bn);
        if (b) parts.push(b);
      }
      if (!target || parts.length !== base.length) continue;
      const delta = encodeDelta(Buffer.concat(parts), target);
      if (size - delta.length < Math.max(MIN_SAVING, size * MIN_SAVING_SHARE)) continue;
      const sha = createHash('sha256').update(delta).digest('hex');
      store ??= await ObjectStore.deltas(repo);
      if (await store.put(sha, delta)) stats.newDeltaBytes += delta.length;
      entries.set(id, { chunk: id, size, delta: sha, deltaSize: delta.length, base });
      stats.deltas++;
      stats.chunkBytes += size;
      stats.deltaBytes += delta.length;
    }
  }
  for (const e of prevDeltas) {
    if (entries.has(e.chunk) || want.get(e.chunk) !== e.size) continue;
    if ((await stat(path.join(repo, deltaPath(e.delta))).catch(() => undefined))?.size !== e.deltaSize) continue;
    entries.set(e.chunk, e);
  }
  // Complete, not yet durable: the caller syncs once for the chunks and these.
  if (await store?.settle()) stats.wrote = true;
  return { entries: [...entries.values()], stats };
}

/** The entries of release n's deltas document (none when it has none or it is unreadable:
 * deltas only save bytes, so a damaged document is rebuilt rather than fatal). */
export async function readDeltaEntries(repo: string, n: number): Promise<DeltaEntry[]> {
  const file = path.join(repo, deltasPath(n));
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  try {
    return checkDeltas(parseEnvelope(text, file).signed, file).deltas;
  } catch {
    return [];
  }
}
