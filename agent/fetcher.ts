// Reading from the library source: a directory on the install media or an http(s) URL.
// Both can start at an offset, which is what makes an interrupted copy resumable.
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { redactUrl, withoutCredentials } from './log.js';

/** Largest manifest read as text: nothing signed states its size beforehand. */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

export interface Source {
  /** Human-readable (and secret-free) name for messages. */
  describe(rel: string): string;
  readText(rel: string, signal: AbortSignal): Promise<string>;
  /** Stream from `offset`; `restarted` is true when the source ignored the offset. */
  open(rel: string, offset: number, signal: AbortSignal): Promise<{ stream: Readable; restarted: boolean }>;
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//.test(s);
}

/**
 * A directory source is a path where the agent runs, not under --root: the media belongs
 * to the installer, not to the target (`%post --nochroot` sees it at /run/install/repo
 * while the target is at /mnt/sysimage).
 */
export function openSource(source: string): Source {
  return isUrl(source) ? new HttpSource(source) : new DirSource(source);
}

class DirSource implements Source {
  constructor(private readonly dir: string) {}
  private host(rel: string): string {
    return rel.startsWith('/') ? rel : path.join(this.dir, rel);
  }
  describe(rel: string): string {
    return rel.startsWith('/') ? rel : path.posix.join(this.dir, rel);
  }
  async readText(rel: string): Promise<string> {
    const st = await fsp.stat(this.host(rel));
    if (st.size > MAX_TEXT_BYTES) throw new Error(`${this.describe(rel)}: ${st.size} bytes, more than the ${MAX_TEXT_BYTES} allowed for a manifest`);
    return fsp.readFile(this.host(rel), 'utf8');
  }
  async open(rel: string, offset: number, signal: AbortSignal): Promise<{ stream: Readable; restarted: boolean }> {
    const p = this.host(rel);
    await fsp.access(p);
    return { stream: createReadStream(p, { start: offset, signal }), restarted: false };
  }
}

class HttpSource implements Source {
  private readonly base: string;
  constructor(base: string) {
    this.base = base.endsWith('/') ? base : `${base}/`;
  }
  private url(rel: string): string {
    if (isUrl(rel)) return rel;
    return new URL(rel.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/'), this.base).toString();
  }
  describe(rel: string): string {
    return redactUrl(this.url(rel));
  }
  async readText(rel: string, signal: AbortSignal): Promise<string> {
    const t = withoutCredentials(this.url(rel));
    const r = await fetch(t.url, { headers: t.headers, signal });
    if (!r.ok) throw new Error(`${this.describe(rel)}: HTTP ${r.status}`);
    const tooBig = () => new Error(`${this.describe(rel)}: more than the ${MAX_TEXT_BYTES} bytes allowed for a manifest`);
    if (Number(r.headers.get('content-length') ?? 0) > MAX_TEXT_BYTES) {
      await r.body?.cancel();
      throw tooBig();
    }
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of (r.body ?? []) as AsyncIterable<Uint8Array>) {
      n += c.length;
      if (n > MAX_TEXT_BYTES) {
        await r.body?.cancel().catch(() => undefined);
        throw tooBig();
      }
      parts.push(Buffer.from(c));
    }
    return Buffer.concat(parts).toString('utf8');
  }
  async open(rel: string, offset: number, signal: AbortSignal): Promise<{ stream: Readable; restarted: boolean }> {
    const t = withoutCredentials(this.url(rel));
    const headers: Record<string, string> = offset > 0 ? { ...t.headers, range: `bytes=${offset}-` } : t.headers;
    const r = await fetch(t.url, { headers, signal });
    if (offset > 0 && r.status === 416) {
      // Nothing left past the offset: let the caller verify what it has.
      await r.body?.cancel();
      return { stream: Readable.from([]), restarted: false };
    }
    if (r.status !== 200 && r.status !== 206) throw new Error(`${this.describe(rel)}: HTTP ${r.status}`);
    if (!r.body) throw new Error(`${this.describe(rel)}: empty response`);
    const restarted = offset > 0 && r.status === 200;
    return { stream: Readable.fromWeb(r.body as import('node:stream/web').ReadableStream), restarted };
  }
}
