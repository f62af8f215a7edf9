// Where a pull reads a repository from: an http(s) URL (the update server, a CDN) or a
// directory (a bundle on a stick). Network reads have a time limit and are retried with
// exponential backoff and jitter, so a slow or flaky school link still gets there; a
// missing file (404, ENOENT) is an answer, not an error, and is not retried.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { redactUrl, withoutCredentials } from '../log.js';

export interface RepoSource {
  kind: 'http' | 'dir';
  describe(rel: string): string;
  /** The file's bytes, or null when the repository has no such file. */
  get(rel: string): Promise<Buffer | null>;
  /** Bytes read so far (for the status and tests). */
  bytes: number;
}

export interface NetOptions {
  /** Per-request time limit, ms. */
  timeoutMs: number;
  /** Attempts per file, including the first. */
  attempts: number;
  /** First backoff delay, ms; doubles per attempt (with jitter), at most 30 s. */
  backoffMs: number;
  log?: (line: string) => void;
}

export const DEFAULT_NET: NetOptions = { timeoutMs: 60_000, attempts: 8, backoffMs: 500 };

export function openRepoSource(from: string, net: NetOptions = DEFAULT_NET): RepoSource {
  return /^https?:\/\//.test(from) ? new HttpRepo(from, net) : new DirRepo(path.resolve(from));
}

class DirRepo implements RepoSource {
  kind = 'dir' as const;
  bytes = 0;
  constructor(private readonly dir: string) {}
  describe(rel: string): string {
    return path.join(this.dir, rel);
  }
  async get(rel: string): Promise<Buffer | null> {
    try {
      const b = await readFile(path.join(this.dir, rel));
      this.bytes += b.length;
      return b;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`${this.describe(rel)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

class HttpRepo implements RepoSource {
  kind = 'http' as const;
  bytes = 0;
  private readonly base: string;
  constructor(base: string, private readonly net: NetOptions) {
    this.base = base.endsWith('/') ? base : `${base}/`;
  }
  private url(rel: string): string {
    return new URL(rel, this.base).toString();
  }
  describe(rel: string): string {
    return redactUrl(this.url(rel));
  }
  async get(rel: string): Promise<Buffer | null> {
    const t = withoutCredentials(this.url(rel));
    let last = '';
    for (let attempt = 1; attempt <= this.net.attempts; attempt++) {
      try {
        const r = await fetch(t.url, { headers: t.headers, signal: AbortSignal.timeout(this.net.timeoutMs) });
        if (r.status === 404 || r.status === 410) {
          await r.body?.cancel();
          return null;
        }
        if (r.ok) {
          const b = Buffer.from(await r.arrayBuffer());
          this.bytes += b.length;
          return b;
        }
        await r.body?.cancel();
        last = `HTTP ${r.status}`;
        // A client error other than "not found" will not get better by asking again.
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) break;
      } catch (e) {
        const err = e as Error;
        last = err.name === 'TimeoutError' ? `no answer within ${Math.round(this.net.timeoutMs / 1000)} s` : ((err.cause as Error | undefined)?.message ?? err.message);
      }
      if (attempt < this.net.attempts) {
        const delay = Math.min(30_000, this.net.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        this.net.log?.(`xs-agent: ${this.describe(rel)}: ${last}; retry ${attempt}/${this.net.attempts - 1} in ${(delay / 1000).toFixed(1)} s`);
        await new Promise((res) => setTimeout(res, delay));
      }
    }
    throw new Error(`${this.describe(rel)}: ${last} (after ${this.net.attempts} attempts)`);
  }
}
