// Getting a chunk's bytes: from the local cache of chunks already fetched (an interrupted
// pull resumes from there), from a seed (a file already on the server that contains the
// chunk), or from the repository: as a delta against chunks this server has, when the
// release's signed deltas list one, else whole. Every chunk is checked against its sha256
// before it is used or stored; a seed that no longer matches is simply not used, and a
// delta that is missing, damaged or rebuilds the wrong bytes falls back to the whole chunk.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { chunkPath, deltaPath, type DeltaEntry } from './format.js';
import { applyDelta, DeltaError } from './delta.js';
import type { RepoSource } from './source.js';
import { faultPoint } from './fault.js';
import { createExclusive } from '../fsutil.js';

export interface SeedRef {
  file: string;
  offset: number;
  size: number;
}

export interface ChunkStats {
  fetched: number;
  fetchedBytes: number;
  cached: number;
  seeded: number;
  seededBytes: number;
  /** Chunks rebuilt from deltas: how many, the deltas' bytes, the chunks' bytes. */
  deltas: number;
  deltaBytes: number;
  deltaChunkBytes: number;
}

export function sha256hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export class ChunkGetter {
  readonly stats: ChunkStats = { fetched: 0, fetchedBytes: 0, cached: 0, seeded: 0, seededBytes: 0, deltas: 0, deltaBytes: 0, deltaChunkBytes: 0 };
  constructor(
    private readonly cacheDir: string,
    private readonly source: RepoSource,
    readonly seeds: Map<string, SeedRef>,
    /** Chunk id -> how to rebuild it from a delta (from the verified deltas document). */
    private readonly deltas: Map<string, DeltaEntry> = new Map(),
    private readonly warn: (m: string) => void = () => undefined,
  ) {}

  private cachePath(id: string): string {
    return path.join(this.cacheDir, chunkPath(id));
  }

  async inCache(id: string, size: number): Promise<boolean> {
    const st = await fsp.stat(this.cachePath(id)).catch(() => undefined);
    return st?.size === size;
  }

  /** Fetch from the repository into the cache (verified): as a delta when possible. */
  async fetch(id: string, size: number): Promise<Buffer> {
    const rebuilt = await this.fromDelta(id, size);
    const data = rebuilt ?? (await this.fetchWhole(id, size));
    await this.store(id, data);
    if (!rebuilt) {
      this.stats.fetched++;
      this.stats.fetchedBytes += data.length;
    }
    faultPoint('chunk fetched');
    return data;
  }

  private async fetchWhole(id: string, size: number): Promise<Buffer> {
    const data = await this.source.get(chunkPath(id), size);
    if (!data) throw new PullDataError(`${this.source.describe(chunkPath(id))}: chunk missing from the ${this.source.kind === 'dir' ? 'bundle' : 'repository'}`, this.source.kind === 'dir' ? 'the bundle is incomplete or made --since a release this server does not have; write a full bundle (without --since)' : 'the repository is incomplete; republish');
    if (data.length !== size || sha256hex(data) !== id) {
      throw new PullDataError(`${this.source.describe(chunkPath(id))}: chunk does not match its sha256 (modified or damaged)`, 'nothing was applied; check the repository or stick');
    }
    return data;
  }

  /**
   * The chunk rebuilt from a delta and its base, or undefined when there is no delta for
   * it, this server lacks a base chunk, or the delta is missing, damaged or rebuilds other
   * bytes than the signed chunk id (then the whole chunk is fetched instead).
   */
  private async fromDelta(id: string, size: number): Promise<Buffer | undefined> {
    const e = this.deltas.get(id);
    if (!e || e.size !== size) return undefined;
    const parts: Buffer[] = [];
    for (const [bid, bn] of e.base) {
      const b = await this.local(bid, bn);
      if (!b) return undefined;
      parts.push(b);
    }
    const rel = deltaPath(e.delta);
    const delta = await this.source.get(rel, e.deltaSize);
    if (!delta) {
      this.warn(`${this.source.describe(rel)}: delta missing; fetching the whole chunk`);
      return undefined;
    }
    if (delta.length !== e.deltaSize || sha256hex(delta) !== e.delta) {
      this.warn(`${this.source.describe(rel)}: delta does not match its sha256 (modified or damaged); fetching the whole chunk`);
      return undefined;
    }
    let out: Buffer;
    try {
      out = applyDelta(Buffer.concat(parts), delta, size);
    } catch (err) {
      if (!(err instanceof DeltaError)) throw err;
      this.warn(`${this.source.describe(rel)}: ${err.message}; fetching the whole chunk`);
      return undefined;
    }
    if (sha256hex(out) !== id) {
      this.warn(`${this.source.describe(rel)}: the chunk rebuilt from this delta does not match its sha256; fetching the whole chunk`);
      return undefined;
    }
    this.stats.deltas++;
    this.stats.deltaBytes += delta.length;
    this.stats.deltaChunkBytes += size;
    return out;
  }

  /** A chunk from the cache or a seed, never the network (a delta's base). */
  private async local(id: string, size: number): Promise<Buffer | undefined> {
    const cached = await fsp.readFile(this.cachePath(id)).catch(() => undefined);
    if (cached && cached.length === size && sha256hex(cached) === id) return cached;
    return this.fromSeed(id, size);
  }

  private async store(id: string, data: Buffer): Promise<void> {
    const file = this.cachePath(id);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.part`;
    try {
      const fh = await createExclusive(tmp, 0o600);
      await fh.writeFile(data).finally(() => fh.close());
      await fsp.rename(tmp, file);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new Error(`${this.cacheDir}: disk full while storing fetched chunks; free space (the release needs about its changed size twice) and pull again`);
      throw e;
    }
  }

  async fromSeed(id: string, size: number): Promise<Buffer | undefined> {
    const s = this.seeds.get(id);
    if (!s || s.size !== size) return undefined;
    const fh = await fsp.open(s.file, 'r').catch(() => undefined);
    if (!fh) return undefined;
    try {
      const b = Buffer.allocUnsafe(size);
      const { bytesRead } = await fh.read(b, 0, size, s.offset);
      if (bytesRead !== size || sha256hex(b) !== id) return undefined;
      return b;
    } finally {
      await fh.close();
    }
  }

  /** The chunk's bytes from wherever they are cheapest; always verified. */
  async get(id: string, size: number): Promise<Buffer> {
    const cached = await fsp.readFile(this.cachePath(id)).catch(() => undefined);
    if (cached && cached.length === size && sha256hex(cached) === id) {
      this.stats.cached++;
      return cached;
    }
    const seeded = await this.fromSeed(id, size);
    if (seeded) {
      this.stats.seeded++;
      this.stats.seededBytes += size;
      return seeded;
    }
    return this.fetch(id, size);
  }

  /** Where prefetch is: chunks and bytes done of those it has to fetch. */
  readonly progress = { done: 0, total: 0, bytes: 0, totalBytes: 0 };

  /**
   * Fetch every chunk that is neither cached nor in a seed, up to `parallel` at a time
   * (the source may allow fewer while the link is slow). Chunks land in the cache one by
   * one, so a kill loses at most the chunks in flight.
   */
  async prefetch(chunks: Map<string, number>, parallel: number): Promise<void> {
    const todo: [string, number][] = [];
    for (const [id, size] of chunks) {
      if (await this.inCache(id, size)) continue;
      if (this.seeds.get(id)?.size === size) continue;
      todo.push([id, size]);
    }
    const p = this.progress;
    p.total = todo.length;
    p.totalBytes = todo.reduce((a, [, n]) => a + n, 0);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < todo.length && !failed) {
        const [id, size] = todo[next++]!;
        try {
          await this.fetch(id, size);
        } catch (e) {
          failed = true;
          throw e;
        }
        p.done++;
        p.bytes += size;
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
  }
}

/** Bad data from the source (tampered, truncated, missing): refuse, apply nothing. */
export class PullDataError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'PullDataError';
  }
}
