// The install server: the netboot tree over HTTP (GET/HEAD, byte ranges), the room's
// status (/status, /status.json) and the installers' reports (/xsbuild/report/<mac>/<status>).
import http from 'node:http';
import path from 'node:path';
import { createReadStream, type ReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { NETBOOT_MANIFEST, type NetbootManifest } from '../netboot/manifest.js';
import { BuildError, InputError } from '../errors.js';
import { parseRange, requestSegments, resolveFile, treeRoot, type TreeRoot } from './resolve.js';
import { Room, isMacId, printable } from './room.js';
import { html } from './view.js';
import { FileCache } from './cache.js';

export interface ServeOptions {
  /** The netboot tree (out/<site>/netboot). */
  dir: string;
  host: string;
  port: number;
  /** URL path the tree is served under besides "/" (default: the path of the site's serverUrl). */
  prefix?: string;
  /** One line per refused or failed request (404s, traversal attempts). */
  log: (line: string) => void;
  /** Bytes of hot files kept in memory (default: 1/8 of RAM, at most 1 GiB; 0: none). */
  cacheBytes?: number;
}

export interface Serving {
  url: string;
  room: Room;
  manifest: NetbootManifest;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.ipxe': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.conf': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.xml': 'application/xml',
  '.gz': 'application/gzip',
  '.rpm': 'application/x-rpm',
  '.iso': 'application/octet-stream',
  '.img': 'application/octet-stream',
  '.efi': 'application/efi',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export async function loadManifest(dir: string): Promise<NetbootManifest> {
  const file = path.join(dir, NETBOOT_MANIFEST);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new InputError({ file }, 'no netboot manifest here', 'give the output directory of a build (out/<site>) whose site has a netboot: section');
  }
  try {
    const m = JSON.parse(text) as NetbootManifest;
    if (m.format !== 1) throw new Error(`format ${String(m.format)}`);
    return m;
  } catch (e) {
    throw new InputError({ file }, `not a netboot manifest xsbuild can read (${(e as Error).message})`, 'rebuild the site with this xsbuild');
  }
}

export async function startServer(o: ServeOptions): Promise<Serving> {
  const manifest = await loadManifest(o.dir);
  const root = await treeRoot(o.dir, manifest.symlinks ?? {});
  const prefix = normPrefix(o.prefix ?? new URL(manifest.serverUrl).pathname);
  const room = new Room(manifest);
  const cache = o.cacheBytes === 0 ? undefined : new FileCache(o.cacheBytes);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    handle(req, res, root, prefix, room, o.log, cache).catch((e) => {
      o.log(`error: ${req.method} ${req.url}: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new BuildError(`${o.host}:${o.port} is already in use (another xsbuild serve, or a web server?)`, 'stop it, or choose another port with --listen ADDR:PORT'));
      else if (e.code === 'EADDRNOTAVAIL') reject(new InputError({ file: '--listen' }, `${o.host} is not an address of this machine`, 'give one of its addresses, or 0.0.0.0 for all'));
      else if (e.code === 'EACCES') reject(new BuildError(`not allowed to listen on ${o.host}:${o.port}`, 'ports below 1024 need root; choose another port with --listen'));
      else reject(e);
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}${prefix}`,
    room,
    manifest,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function normPrefix(p: string): string {
  const s = `/${p.replace(/^\/+|\/+$/g, '')}/`;
  return s === '//' ? '/' : s;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, root: TreeRoot, prefix: string, room: Room, log: (l: string) => void, cache?: FileCache): Promise<void> {
  const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const method = req.method ?? 'GET';
  const parsed = requestSegments(req.url ?? '/', prefix);
  if ('error' in parsed) {
    log(`refused ${ip} ${method} ${req.url}: ${parsed.error}`);
    return void res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 }).end('not found\n');
  }
  const { segments, query } = parsed;
  const rel = segments.join('/');

  // The room's own pages and the installers' reports.
  if (rel === 'status.json' || rel === 'status') {
    const body = rel === 'status' ? html(room) : JSON.stringify(room.snapshot(), null, 2) + '\n';
    res.writeHead(200, { 'Content-Type': rel === 'status' ? 'text/html; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    return void res.end(method === 'HEAD' ? undefined : body);
  }
  const rep = /^xsbuild\/report\/([^/]+)\/(done|error|refused)$/.exec(rel);
  if (rep) return report(req, res, room, log, ip, method, rep[1], rep[2], query);

  if (method !== 'GET' && method !== 'HEAD') {
    return void res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
  }
  const r = await resolveFile(root, segments);
  if (!r.ok) {
    log(`404 ${ip} ${method} ${req.url}: ${r.reason}`);
    room.request(rel, query, ip, 404, 0, r.reason);
    return void res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 }).end('not found\n');
  }
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': contentType(r.file),
    'Accept-Ranges': 'bytes',
    'Last-Modified': r.mtime.toUTCString(),
  };
  const range = parseRange(req.headers.range, r.size);
  if (range === 'unsatisfiable') {
    log(`416 ${ip} ${method} ${req.url}: range ${req.headers.range} of ${r.size} bytes`);
    return void res.writeHead(416, { ...headers, 'Content-Range': `bytes */${r.size}`, 'Content-Length': 0 }).end();
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? r.size - 1;
  const length = r.size === 0 ? 0 : end - start + 1;
  headers['Content-Length'] = length;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${r.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (method === 'HEAD' || length === 0) {
    room.request(rel, query, ip, range ? 206 : 200, 0);
    return void res.end();
  }
  const cached = cache?.get(r);
  let stream: ReadStream | undefined;
  await new Promise<void>((resolve) => {
    res.on('close', () => {
      stream?.destroy();
      // Only complete transfers count as a step reached.
      if (res.writableFinished) room.request(rel, query, ip, range ? 206 : 200, length);
      resolve();
    });
    if (cached) {
      // One shared Buffer for every client: the socket write is the only copy.
      res.end(cached.subarray(start, end + 1));
      return;
    }
    stream = createReadStream(r.file, { start, end, highWaterMark: 256 * 1024 });
    stream.on('error', (e) => {
      log(`error ${ip} ${req.url}: ${e.message}`);
      res.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/**
 * An installer's report. "done" only by POST (the kickstart's %post sends it) and only
 * for a machine the room believes (Room.mayReport); "error" and "refused" also by GET,
 * because boot firmware cannot POST (iPXE's imgfetch and GRUB's cat only GET), but only
 * for machines the room already has. Everything else is refused without a trace in the
 * room, so fake MACs cannot fill it.
 */
async function report(req: http.IncomingMessage, res: http.ServerResponse, room: Room, log: (l: string) => void, ip: string, method: string, mac: string, status: string, query: URLSearchParams): Promise<void> {
  const say = (code: number, text: string, headers: http.OutgoingHttpHeaders = {}) => void res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers }).end(text);
  const id = mac.toLowerCase().replace(/:/g, '-');
  if (!isMacId(id)) {
    log(`refused ${ip} report for "${printable(mac, 40)}": not a MAC address`);
    return say(400, 'bad request\n');
  }
  if (method !== 'POST' && !(method === 'GET' && status !== 'done')) {
    log(`refused ${ip} ${method} report ${id}/${status}: reports are POSTed`);
    return say(405, 'reports are POSTed\n', { Allow: status === 'done' ? 'POST' : 'GET, POST' });
  }
  if (status === 'done' ? !room.mayReport(id) : !room.machines.has(id)) {
    log(`refused ${ip} report ${id}/${status}: not a machine of this site that booted from this server`);
    return say(403, 'not a machine of this room\n');
  }
  const body = method === 'POST' ? (await readBody(req, 4096)).trim() : '';
  room.report(id, status, ip, body && body !== status ? body : query.get('message') ?? undefined);
  return say(200, 'ok\n');
}

function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      if (body.length < max) body += c.toString('utf8');
    });
    req.on('end', () => resolve(body.slice(0, max)));
    req.on('error', () => resolve(body));
  });
}
