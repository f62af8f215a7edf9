// A repository server on 127.0.0.1 that is slow or lies: it serves a directory at a set
// byte rate (with byte ranges, so a client can resume), can cut a transfer once after
// some bytes, and hands any path to an override that answers instead (an endless body,
// a huge Content-Length, a drip). Also: the peak resident memory of a child process,
// read from /proc while it runs.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface HostileOptions {
  /** Bytes per second of the whole link, shared by every body in flight (default: as fast as possible). */
  rate?: number;
  /** Cut the connection once, after this many body bytes of the first path that matches. */
  cut?: { match: RegExp; after: number };
  /** Answer a request yourself; return true when handled. */
  override?: (rel: string, req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface HostileServer {
  url: string;
  /** Every request: its path and Range header. */
  log: { path: string; range?: string }[];
  close(): Promise<void>;
}

export async function hostileRepo(dir: string, o: HostileOptions = {}): Promise<HostileServer> {
  const log: HostileServer['log'] = [];
  let cut = o.cut;
  const link = o.rate ? new Link(o.rate) : undefined;
  const server = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/xs\//, '');
    log.push({ path: rel, range: req.headers.range });
    if (o.override?.(rel, req, res)) return;
    if (rel.includes('..')) return void res.writeHead(400).end();
    const data = await readFile(path.join(dir, rel)).catch(() => undefined);
    if (!data) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Math.min(Number(m[1]), data.length) : 0;
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': body.length, ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    let limit = body.length;
    if (cut && cut.match.test(rel) && body.length > cut.after) {
      limit = Math.min(limit, cut.after);
      cut = undefined;
    }
    await send(res, body.subarray(0, limit), link);
    if (limit < body.length) {
      // Hang up once every byte before the cut is on the wire.
      await new Promise((r) => res.write('', r));
      req.socket.destroy();
    }
    else res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/xs/`,
    log,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const TICK = 50;

/** A link of `rate` bytes/s: every slice sent on it waits for its turn, so bodies in flight share it. */
export class Link {
  private free = Date.now();
  constructor(readonly rate: number) {}
  get slice(): number {
    return Math.max(1, Math.round((this.rate * TICK) / 1000));
  }
  async take(n: number): Promise<void> {
    this.free = Math.max(this.free, Date.now()) + (n * 1000) / this.rate;
    const wait = this.free - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** Write `data` over the link in small slices (all at once without one). */
export async function send(res: ServerResponse, data: Buffer, link?: Link): Promise<void> {
  if (!link) {
    res.write(data);
    return;
  }
  for (let off = 0; off < data.length && !res.destroyed; off += link.slice) {
    const part = data.subarray(off, off + link.slice);
    await link.take(part.length);
    res.write(part);
  }
}

/** An endless body: `block` again and again as fast as the client reads, until it hangs up. */
export function streamForever(res: ServerResponse, headers: Record<string, string | number> = {}): void {
  const block = Buffer.alloc(64 * 1024, 0x61);
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
  const pump = () => {
    while (!res.destroyed && res.write(block));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('error', () => undefined);
  pump();
}

/** One byte per `everyMs`, forever. */
export function drip(res: ServerResponse, everyMs = 1000): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('x')), everyMs);
  res.on('close', () => clearInterval(t));
}

/** Peak resident memory (VmHWM) of a running process, MiB; 0 once it is gone. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
