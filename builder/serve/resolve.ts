// Map a request target to a file of the netboot tree, or refuse. Dot segments are
// removed as RFC 3986 says (boot.ipxe relies on "<url>/../"), but one that would climb
// above the tree root is an attack, not a path. Percent-decoding happens per segment,
// so an encoded "/" or "\" cannot smuggle a separator. Symlinks may not lead out of
// the tree, except the ones the netboot generator made, which its manifest lists with
// their exact targets.
import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import { isWithin } from '../paths.js';

export type Resolved =
  | { ok: true; file: string; rel: string; size: number; mtime: Date; mtimeMs: number; ino: number }
  | { ok: false; status: 400 | 404; reason: string; rel?: string };

/** Split "/a/b?x=1" into tree-relative segments, or say why not. */
export function requestSegments(target: string, prefix = '/'): { segments: string[]; query: URLSearchParams } | { error: string } {
  let raw = target;
  // Absolute-form targets (proxies, some clients): keep the path.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) raw = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/';
  const q = raw.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  let p = q >= 0 ? raw.slice(0, q) : raw;
  const hash = p.indexOf('#');
  if (hash >= 0) p = p.slice(0, hash);
  if (!p.startsWith('/')) return { error: 'not an absolute path' };
  if (prefix !== '/' && (p === prefix.replace(/\/$/, '') || p.startsWith(prefix))) p = p.slice(prefix.length - 1);
  const out: string[] = [];
  for (const seg of p.split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      return { error: `bad percent-encoding in "${seg}"` };
    }
    if (s.includes('/') || s.includes('\\') || s.includes('\0')) return { error: `encoded separator or NUL in "${seg}"` };
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (out.length === 0) return { error: 'climbs above the tree root' };
      out.pop();
      continue;
    }
    out.push(s);
  }
  return { segments: out, query };
}

export interface TreeRoot {
  dir: string;
  realDir: string;
  /** Tree path → real target, from the netboot manifest. */
  symlinks: Record<string, string>;
}

export async function treeRoot(dir: string, symlinks: Record<string, string>): Promise<TreeRoot> {
  return { dir, realDir: await realpath(dir), symlinks };
}

export async function resolveFile(root: TreeRoot, segments: string[]): Promise<Resolved> {
  const rel = segments.join('/');
  if (segments.length === 0) return { ok: false, status: 404, reason: 'no file named', rel };
  const candidate = path.join(root.dir, ...segments);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { ok: false, status: 404, reason: 'no such file', rel };
  }
  if (!isWithin(root.realDir, real) && root.symlinks[rel] !== real) {
    return { ok: false, status: 404, reason: `symlink leads out of the tree (to ${real})`, rel };
  }
  const st = await stat(real).catch(() => undefined);
  if (!st?.isFile()) return { ok: false, status: 404, reason: st ? 'not a regular file' : 'no such file', rel };
  return { ok: true, file: real, rel, size: st.size, mtime: st.mtime, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** Parse a single "bytes=" range against a size; multiple ranges get the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  // RFC 9110 14.2: a range unit the server does not know is ignored (the whole file, 200).
  const unit = /^\s*([^=\s]+)=/.exec(header)?.[1];
  if (unit === undefined || unit.toLowerCase() !== 'bytes') return undefined;
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m) return header.includes(',') ? undefined : 'unsatisfiable';
  const [, a, b] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return 'unsatisfiable';
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
