// Where a pull reads a repository from: an http(s) URL (the update server, a CDN) or a
// directory (a bundle on a stick). Whatever answers may be hostile or merely terrible, so:
//   - every read has a ceiling the caller gives (the size the signed metadata lists for a
//     chunk or delta, a fixed cap for metadata); a larger Content-Length is refused before
//     the body is read, and a body that runs past the ceiling is cut off and refused;
//   - there is no whole-request timeout (a 2 KB/s school link must be able to finish a
//     256 KiB chunk); a request is abandoned when, in any window of `idleMs`, fewer than
//     max(1, minRate × window) bytes arrive (curl's --speed-limit/--speed-time): this
//     catches a server that never answers, a stall, and a 1 B/s drip alike;
//   - a request cut or abandoned mid-body resumes with a Range request where it stopped;
//   - requests in flight adapt to the link (LinkGate): start with two, one more after each
//     file that arrives, half as many after a request that was abandoned as too slow;
//   - a request abandoned as too slow while it was alone on the link, twice in a row,
//     ends the pull: the link cannot carry even one request at the floor rate, and more
//     retries would only stretch a 1 B/s drip over many minutes. At the defaults (60 s,
//     64 B/s) a drip is given up after two or three windows (120 s measured).
// Other failures are retried with exponential backoff and jitter; a missing file (404,
// ENOENT) is an answer, not an error, and is not retried.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { redactUrl, withoutCredentials } from '../log.js';
import { PullDataError } from './chunks.js';

export interface RepoSource {
  kind: 'http' | 'dir';
  describe(rel: string): string;
  /** The file's bytes (at most `max`), or null when the repository has no such file. */
  get(rel: string, max: number): Promise<Buffer | null>;
  /** Bytes received so far, counted as they arrive (for progress, the status, tests). */
  bytes: number;
}

export interface NetOptions {
  /** Length of the rate window, ms: with nothing (or too little) arriving for this long a request is abandoned. */
  idleMs: number;
  /** Floor rate, bytes/s, over each window (0: only a fully idle window abandons). */
  minRate: number;
  /** Attempts per file, including the first. */
  attempts: number;
  /** First backoff delay, ms; doubles per attempt (with jitter), at most 30 s. */
  backoffMs: number;
  /** Most requests in flight at once; the gate starts lower and adapts. */
  parallel: number;
  log?: (line: string) => void;
}

export const DEFAULT_NET: NetOptions = { idleMs: 60_000, minRate: 64, attempts: 8, backoffMs: 500, parallel: 8 };

/** Caps for documents whose size nothing signed states beforehand. */
export const MAX_ROOT_BYTES = 1024 * 1024;
export const MAX_METADATA_BYTES = 64 * 1024 * 1024;

export function openRepoSource(from: string, net: NetOptions = DEFAULT_NET): RepoSource {
  return /^https?:\/\//.test(from) ? new HttpRepo(from, net) : new DirRepo(path.resolve(from));
}

/** A body larger than its ceiling: `n` is the Content-Length offered, or undefined once more than `max` bytes arrived. */
function tooBig(where: string, n: number | undefined, max: number): PullDataError {
  const what = n === undefined ? `the source sent more than the ${max} bytes allowed for it` : `the source offers ${n} bytes, more than the ${max} allowed for it`;
  return new PullDataError(`${where}: ${what}`, 'the source is damaged or hostile; nothing was applied');
}

class DirRepo implements RepoSource {
  kind = 'dir' as const;
  bytes = 0;
  constructor(private readonly dir: string) {}
  describe(rel: string): string {
    return path.join(this.dir, rel);
  }
  async get(rel: string, max: number): Promise<Buffer | null> {
    const file = path.join(this.dir, rel);
    try {
      const fh = await fsp.open(file, 'r');
      try {
        const st = await fh.stat();
        if (st.size > max) throw tooBig(this.describe(rel), st.size, max);
        const b = Buffer.alloc(st.size);
        const { bytesRead } = await fh.read(b, 0, st.size, 0);
        this.bytes += bytesRead;
        return b.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (e instanceof PullDataError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`${this.describe(rel)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** The link cannot carry one request at the floor rate: retrying will not help. */
class LinkTooSlow extends Error {}

/** How many requests may be in flight: adapts to the link (see the top of this file). */
export class LinkGate {
  limit: number;
  private inflight = 0;
  private waiting: (() => void)[] = [];
  private strikes = 0;
  constructor(readonly max: number) {
    this.limit = Math.min(2, max);
  }
  async acquire(): Promise<{ alone: boolean }> {
    while (this.inflight >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.inflight++;
    return { alone: this.inflight === 1 || this.limit === 1 };
  }
  release(outcome: 'ok' | 'slow' | 'other', slot: { alone: boolean }): void {
    this.inflight--;
    if (outcome === 'ok') {
      this.strikes = 0;
      this.limit = Math.min(this.max, this.limit + 1);
    } else if (outcome === 'slow') {
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      if (slot.alone) this.strikes++;
    }
    for (const w of this.waiting.splice(0)) w();
  }
  /** Two requests in a row that were alone on the link and still too slow. */
  get hopeless(): boolean {
    return this.strikes >= 2;
  }
}

class Stalled extends Error {}

class HttpRepo implements RepoSource {
  kind = 'http' as const;
  bytes = 0;
  private readonly base: string;
  readonly gate: LinkGate;
  constructor(base: string, private readonly net: NetOptions) {
    this.base = base.endsWith('/') ? base : `${base}/`;
    this.gate = new LinkGate(Math.max(1, net.parallel));
  }
  private url(rel: string): string {
    return new URL(rel, this.base).toString();
  }
  describe(rel: string): string {
    return redactUrl(this.url(rel));
  }
  private floor(): string {
    const s = Math.round(this.net.idleMs / 1000);
    return this.net.minRate > 0 ? `under ${this.net.minRate} B/s for ${s} s` : `no data for ${s} s`;
  }

  async get(rel: string, max: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    const got = { n: 0 };
    let last = '';
    for (let attempt = 1; attempt <= this.net.attempts; attempt++) {
      const slot = await this.gate.acquire();
      let outcome: 'ok' | 'slow' | 'other' = 'other';
      try {
        const r = await this.once(rel, max, parts, got);
        if (r === 'missing' || r === 'done') outcome = 'ok';
        if (r === 'missing') return null;
        if (r === 'done') return Buffer.concat(parts);
        last = r.error;
        if (r.final) break;
      } catch (e) {
        if (e instanceof PullDataError) throw e;
        if (e instanceof Stalled) {
          outcome = 'slow';
          last = `${e.message} (${this.floor()})`;
        } else {
          const err = e as Error;
          last = (err.cause as Error | undefined)?.message ?? err.message;
        }
      } finally {
        this.gate.release(outcome, slot);
      }
      if (outcome === 'slow' && this.gate.hopeless) {
        throw new LinkTooSlow(`${this.describe(rel)}: ${last}; the link is too slow even for one request at a time (check it, or give a longer --timeout or a lower --min-rate)`);
      }
      if (attempt < this.net.attempts) {
        const delay = Math.min(30_000, this.net.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const at = got.n > 0 ? `; resuming at byte ${got.n}` : '';
        this.net.log?.(`xs-agent: ${this.describe(rel)}: ${last}; retry ${attempt}/${this.net.attempts - 1} in ${(delay / 1000).toFixed(1)} s${at}`);
        await new Promise((res) => setTimeout(res, delay));
      }
    }
    throw new Error(`${this.describe(rel)}: ${last} (after ${this.net.attempts} attempts)`);
  }

  /**
   * One request, continuing after the `got.n` bytes already in `parts`. Throws Stalled
   * when the rate window closes short, PullDataError when the body is larger than `max`.
   */
  private async once(rel: string, max: number, parts: Buffer[], got: { n: number }): Promise<'done' | 'missing' | { error: string; final: boolean }> {
    const t = withoutCredentials(this.url(rel));
    const headers = got.n > 0 ? { ...t.headers, range: `bytes=${got.n}-` } : t.headers;
    const ac = new AbortController();
    let window = 0;
    const need = Math.max(1, Math.floor((this.net.minRate * this.net.idleMs) / 1000));
    const watchdog = setInterval(() => {
      if (window < need) ac.abort(new Stalled(window === 0 ? `no data for ${Math.round(this.net.idleMs / 1000)} s` : `only ${window} bytes in ${Math.round(this.net.idleMs / 1000)} s`));
      window = 0;
    }, this.net.idleMs);
    try {
      const r = await fetch(t.url, { headers, signal: ac.signal });
      if (r.status === 404 || r.status === 410) {
        await r.body?.cancel();
        return 'missing';
      }
      if (r.status === 416 && got.n > 0) {
        // Nothing past what we have: the cut came after the last byte (the caller checks the sha256).
        await r.body?.cancel();
        return 'done';
      }
      let start = 0;
      if (r.status === 206 && got.n > 0) {
        start = Number(/^bytes (\d+)-/.exec(r.headers.get('content-range') ?? '')?.[1] ?? NaN);
        if (start !== got.n) {
          await r.body?.cancel();
          parts.length = 0;
          got.n = 0;
          return { error: `answered a range request with another range (${r.headers.get('content-range')})`, final: false };
        }
      } else if (r.status === 200) {
        // A fresh answer (or a server that ignores ranges): start over.
        parts.length = 0;
        got.n = 0;
      } else {
        await r.body?.cancel();
        // A client error other than "not found" will not get better by asking again.
        return { error: `HTTP ${r.status}`, final: r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429 };
      }
      const length = r.headers.get('content-length');
      if (length !== null && start + Number(length) > max) {
        await r.body?.cancel();
        throw tooBig(this.describe(rel), start + Number(length), max);
      }
      if (!r.body) return 'done';
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'done';
        window += value.length;
        this.bytes += value.length;
        if (got.n + value.length > max) {
          await reader.cancel();
          parts.length = 0;
          got.n = 0;
          throw tooBig(this.describe(rel), undefined, max);
        }
        parts.push(Buffer.from(value.buffer, value.byteOffset, value.length));
        got.n += value.length;
      }
    } catch (e) {
      if (ac.signal.aborted && ac.signal.reason instanceof Stalled) throw ac.signal.reason;
      throw e;
    } finally {
      clearInterval(watchdog);
    }
  }
}
