// What applying a release changes on the target: each file the release places (layer
// files at their absolute paths, library files under their dest), each file the previous
// release placed that the new one no longer has (removed), and which of them already
// have the right content (skipped). Target files are compared by sha256, with a stat
// cache so an unchanged multi-GiB library is not read on every pull.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { TargetFs } from '../fsutil.js';
import type { FileRef, ReleaseDoc, SealedFile } from './format.js';
import type { SeedRef } from './chunks.js';
import { chunkFile } from './chunker.js';

export interface PlacedFile {
  /** Path on the target ("/etc/motd", "/library/common/a.pdf"). */
  target: string;
  mode: string;
  /** The content; for a sealed file the plaintext's size and sha256 (no chunks). */
  ref: FileRef;
  origin: string;
  /** A sealed file of this host: its blob is decrypted into `data` before staging. */
  sealed?: SealedFile;
  /** Owner and group a sealed file is given (resolved on this server). */
  uid?: number;
  gid?: number;
  data?: Buffer;
}

/** Owner and group ids of a sealed file on this server (throws when unknown). */
export type OwnerResolver = (f: SealedFile) => { uid: number; gid: number };

export interface Plan {
  /** Files whose content or mode must change. */
  write: PlacedFile[];
  /** Target paths the previous release placed and this one does not. */
  remove: string[];
  unchanged: number;
}

/** Files the release places on this server: layers, library, and `host`'s sealed files. */
export function placedFiles(r: ReleaseDoc, host?: string): PlacedFile[] {
  const out: PlacedFile[] = [];
  for (const l of r.layers) for (const f of l.files) out.push({ target: f.path, mode: f.mode, ref: f, origin: `layer ${l.name}` });
  for (const lib of r.library) for (const f of lib.files) out.push({ target: path.posix.join(lib.dest, f.path), mode: f.mode, ref: f, origin: `library ${lib.dest}` });
  for (const s of r.sealed ?? []) {
    if (host !== undefined && s.host === host) out.push({ target: s.path, mode: s.mode, ref: { size: s.size, sha256: s.sha256, chunks: [] }, origin: 'sealed', sealed: s });
  }
  return out;
}

type IndexEntry = { size: number; mtimeMs: number; ino: number; sha256: string };
export type FileIndex = Record<string, IndexEntry>;

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  return h.digest('hex');
}

/** sha256 of a target file (undefined when absent), through the stat cache. */
export async function targetSha(fs: TargetFs, target: string, index: FileIndex): Promise<{ sha256: string; size: number; mode: number } | undefined> {
  const host = fs.p(target);
  const st = await fsp.lstat(host).catch(() => undefined);
  if (!st || !st.isFile()) return undefined;
  const hit = index[target];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return { sha256: hit.sha256, size: st.size, mode: st.mode & 0o7777 };
  const sha256 = await sha256OfFile(host);
  index[target] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
  return { sha256, size: st.size, mode: st.mode & 0o7777 };
}

export async function makePlan(fs: TargetFs, next: ReleaseDoc, prev: ReleaseDoc | undefined, index: FileIndex, host?: string, owners?: OwnerResolver): Promise<Plan> {
  const want = placedFiles(next, host);
  const wanted = new Set(want.map((f) => f.target));
  const write: PlacedFile[] = [];
  let unchanged = 0;
  for (const f of want) {
    if (f.sealed) {
      if (!owners) throw new Error(`internal: sealed file ${f.target} without an owner resolver`);
      Object.assign(f, owners(f.sealed));
    }
    const have = await targetSha(fs, f.target, index);
    const sameOwner = !f.sealed || (have !== undefined && (await fsp.lstat(fs.p(f.target)).then((st) => st.uid === f.uid && st.gid === f.gid, () => false)));
    if (have && have.sha256 === f.ref.sha256 && have.mode === parseInt(f.mode, 8) && sameOwner) unchanged++;
    else write.push(f);
  }
  const remove = prev ? placedFiles(prev, host).map((f) => f.target).filter((t) => !wanted.has(t)) : [];
  return { write, remove: [...new Set(remove)], unchanged };
}

/**
 * Where chunks can be read locally: every file of the previous release still intact on
 * disk (its chunk list is known, nothing to read), and the current content of each file
 * about to change (cut with the same chunker; an edited file shares most chunks with
 * its old version).
 */
export async function buildSeeds(fs: TargetFs, plan: Plan, prev: ReleaseDoc | undefined, index: FileIndex): Promise<Map<string, SeedRef>> {
  const seeds = new Map<string, SeedRef>();
  const known = new Set<string>();
  for (const f of prev ? placedFiles(prev) : []) {
    const have = await targetSha(fs, f.target, index);
    if (!have || have.sha256 !== f.ref.sha256) continue;
    known.add(f.target);
    let off = 0;
    for (const [id, n] of f.ref.chunks) {
      if (!seeds.has(id)) seeds.set(id, { file: fs.p(f.target), offset: off, size: n });
      off += n;
    }
  }
  for (const f of plan.write) {
    // A sealed file's blob is ciphertext: the plaintext on disk shares no chunk with it.
    if (known.has(f.target) || f.sealed) continue;
    const host = fs.p(f.target);
    const st = await fsp.lstat(host).catch(() => undefined);
    if (!st?.isFile() || st.size === 0) continue;
    const c = await chunkFile(host);
    for (const x of c.chunks) if (!seeds.has(x.id)) seeds.set(x.id, { file: host, offset: x.offset, size: x.size });
  }
  return seeds;
}
