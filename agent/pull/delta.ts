// Chunk deltas: a new chunk described as copies from chunks the server already has (its
// "base", consecutive chunks of the file's previous version) plus the bytes that are new.
// A scattered edit changes one or two ~64 KiB content-defined chunks; the delta of such a
// chunk is about the size of the edit itself, as with rsync.
//
// The encoder (publisher) finds matches the way rsync does: a weak rolling checksum over
// fixed-size blocks of the base, looked up at every offset of the target; a hit is
// confirmed by comparing the bytes (both sides are local, no strong hash needed) and then
// extended byte by byte in both directions, so a match covers exactly the unchanged run.
//
// The decoder (agent) treats a delta as untrusted input: every op is bounds-checked, the
// output may not exceed the declared size, and the caller verifies the result against the
// chunk's sha256 from the signed release before using it.
//
// Format (all integers unsigned 32-bit little-endian):
//   "XSD1"  targetSize  baseSize  op*
//   op 1 (copy):   baseOffset length
//   op 2 (insert): length bytes[length]
import { MAX_CHUNK } from './chunker.js';

const MAGIC = Buffer.from('XSD1');
const OP_COPY = 1;
const OP_INSERT = 2;
/** Block size of the match search: small enough to find the unchanged runs around a few
 * hundred bytes of change, big enough that the base index stays small. */
export const DELTA_BLOCK = 512;
/** At most this many base offsets are kept per weak checksum (repetitive data). */
const MAX_CANDIDATES = 8;
/** A delta never needs more base than this (a few chunks around the old position). */
export const MAX_BASE = 8 * MAX_CHUNK;

export class DeltaError extends Error {}

/** rsync's weak checksum over buf[off, off+len): two 16-bit sums. */
function weak(buf: Uint8Array, off: number, len: number): { a: number; b: number } {
  let a = 0;
  let b = 0;
  for (let i = 0; i < len; i++) {
    a = (a + buf[off + i]!) & 0xffff;
    b = (b + a) & 0xffff;
  }
  return { a, b };
}

const key = (a: number, b: number) => ((b << 16) | a) >>> 0;

/** Encode `target` as copies from `base` and inserted bytes. */
export function encodeDelta(base: Uint8Array, target: Uint8Array): Buffer {
  const B = DELTA_BLOCK;
  const index = new Map<number, number[]>();
  for (let off = 0; off + B <= base.length; off += B) {
    const { a, b } = weak(base, off, B);
    const k = key(a, b);
    const list = index.get(k);
    if (!list) index.set(k, [off]);
    else if (list.length < MAX_CANDIDATES) list.push(off);
  }
  const out = new DeltaWriter(target.length, base.length);
  let lit = 0; // start of bytes not yet emitted
  let p = 0;
  let { a, b } = target.length >= B ? weak(target, 0, B) : { a: 0, b: 0 };
  while (p + B <= target.length) {
    const cands = index.get(key(a, b));
    let best = -1;
    let bestLen = 0;
    if (cands) {
      for (const o of cands) {
        if (!equalRange(base, o, target, p, B)) continue;
        let n = B;
        while (o + n < base.length && p + n < target.length && base[o + n] === target[p + n]) n++;
        if (n > bestLen) {
          bestLen = n;
          best = o;
        }
      }
    }
    if (best >= 0) {
      // Extend backwards into bytes not yet emitted.
      let back = 0;
      while (p - back > lit && best - back > 0 && base[best - back - 1] === target[p - back - 1]) back++;
      out.insert(target.subarray(lit, p - back));
      out.copy(best - back, bestLen + back);
      p += bestLen;
      lit = p;
      if (p + B <= target.length) ({ a, b } = weak(target, p, B));
      continue;
    }
    // Roll the window one byte on.
    if (p + B < target.length) {
      const outB = target[p]!;
      const inB = target[p + B]!;
      a = (a - outB + inB) & 0xffff;
      b = (b - B * outB + a) & 0xffff;
    }
    p++;
  }
  out.insert(target.subarray(lit));
  return out.finish();
}

function equalRange(x: Uint8Array, xo: number, y: Uint8Array, yo: number, n: number): boolean {
  if (xo + n > x.length || yo + n > y.length) return false;
  return Buffer.from(x.buffer, x.byteOffset + xo, n).equals(Buffer.from(y.buffer, y.byteOffset + yo, n));
}

class DeltaWriter {
  private readonly parts: Buffer[] = [];
  private lastCopy: Buffer | undefined;
  constructor(targetSize: number, baseSize: number) {
    const h = Buffer.alloc(12);
    MAGIC.copy(h, 0);
    h.writeUInt32LE(targetSize, 4);
    h.writeUInt32LE(baseSize, 8);
    this.parts.push(h);
  }
  insert(data: Uint8Array): void {
    if (data.length === 0) return;
    const h = Buffer.alloc(5);
    h[0] = OP_INSERT;
    h.writeUInt32LE(data.length, 1);
    this.parts.push(h, Buffer.from(data));
    this.lastCopy = undefined;
  }
  copy(offset: number, length: number): void {
    // Adjacent copies (a match that continued past a block boundary) merge into one op.
    const prev = this.lastCopy;
    if (prev && prev.readUInt32LE(1) + prev.readUInt32LE(5) === offset) {
      prev.writeUInt32LE(prev.readUInt32LE(5) + length, 5);
      return;
    }
    const h = Buffer.alloc(9);
    h[0] = OP_COPY;
    h.writeUInt32LE(offset, 1);
    h.writeUInt32LE(length, 5);
    this.parts.push(h);
    this.lastCopy = h;
  }
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/**
 * Rebuild a chunk from its base and a delta. Throws DeltaError on any malformed or
 * out-of-bounds op; the caller still checks the result's sha256.
 */
export function applyDelta(base: Uint8Array, delta: Uint8Array, expectSize: number): Buffer {
  const d = Buffer.from(delta.buffer, delta.byteOffset, delta.length);
  if (d.length < 12 || !d.subarray(0, 4).equals(MAGIC)) throw new DeltaError('not a chunk delta (bad magic)');
  const size = d.readUInt32LE(4);
  const baseSize = d.readUInt32LE(8);
  if (size !== expectSize || size > MAX_CHUNK) throw new DeltaError(`delta builds ${size} bytes, the chunk has ${expectSize}`);
  if (baseSize !== base.length) throw new DeltaError(`delta expects a base of ${baseSize} bytes, the base has ${base.length}`);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let p = 12;
  while (p < d.length) {
    const op = d[p]!;
    if (op === OP_COPY) {
      if (p + 9 > d.length) throw new DeltaError('truncated copy op');
      const off = d.readUInt32LE(p + 1);
      const len = d.readUInt32LE(p + 5);
      if (off + len > base.length || o + len > size) throw new DeltaError('copy op out of bounds');
      out.set(base.subarray(off, off + len), o);
      o += len;
      p += 9;
    } else if (op === OP_INSERT) {
      if (p + 5 > d.length) throw new DeltaError('truncated insert op');
      const len = d.readUInt32LE(p + 1);
      if (p + 5 + len > d.length || o + len > size) throw new DeltaError('insert op out of bounds');
      d.copy(out, o, p + 5, p + 5 + len);
      o += len;
      p += 5 + len;
    } else {
      throw new DeltaError(`unknown op ${op} at byte ${p}`);
    }
  }
  if (o !== size) throw new DeltaError(`delta builds ${o} of ${size} bytes`);
  return out;
}
