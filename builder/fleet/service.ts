// The fleet service: school servers POST enrolments and signed reports (agent/fleet/wire.ts),
// people use the page at / and its JSON API. Logs say what happened to whom, never a
// body, a token or a key.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ENROL_PATH, MAX_FLEET_DOC, REPORT_PATH } from '../../agent/fleet/wire.js';
import type { Envelope } from '../../agent/pull/sign.js';
import { BuildError, InputError } from '../errors.js';
import { Batcher } from './batch.js';
import { checkEnrolRequest, checkReport, DocumentError, HOST_RE, parseJson, signedBy, SITE_RE, type FleetReport } from './documents.js';
import { HttpError, readBody, sendHtml, sendJson } from './http.js';
import { PAGE_SIZE, renderFleet, renderHost, SCRIPT_SOURCE } from './page.js';
import { FleetStateError, type FleetStore, type Received, type ReportOutcome } from './store.js';

export interface FleetServiceOptions {
  store: FleetStore;
  host: string;
  port: number;
  log: (line: string) => void;
  /** A client must send its whole body within this time (ms). */
  bodyTimeoutMs?: number;
}

export interface FleetService {
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startFleetService(o: FleetServiceOptions): Promise<FleetService> {
  const bodyTimeout = o.bodyTimeoutMs ?? 15_000;
  const reports = new Batcher<{ env: Envelope<FleetReport>; r: Received }, ReportOutcome>((items) => o.store.recordReports(items));
  const sockets = new Set<Socket>();
  let port = o.port;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      // Database trouble: the client retries; the message is ours, not a body's.
      o.log(`error: ${req.method} ${(req.url ?? '').split('?')[0]}: ${(e as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error; try again' });
      else res.destroy();
    });
  });
  // Slow or idle clients do not hold connections for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = bodyTimeout + 5_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  /**
   * The page's actions change who is trusted, so a request must come from the page
   * itself: the Origin must be this service (a browser always sends it on a POST from
   * script, and another site cannot fake it), the Host must be the address the service
   * listens on when that is loopback (DNS rebinding), and the body must be JSON (a
   * cross-site form cannot send that without a preflight this service never answers).
   */
  function sameOrigin(req: http.IncomingMessage): string | undefined {
    const host = req.headers.host ?? '';
    const wrongHost = foreignHost(req);
    if (wrongHost) return wrongHost;
    if (req.headers.origin !== `http://${host}`) return 'the request does not come from this page (Origin)';
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return 'the request does not come from this page (Sec-Fetch-Site)';
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return 'the body must be application/json';
    return undefined;
  }

  /** On loopback, the page answers only to its own address: a rebound DNS name gets nothing. */
  function foreignHost(req: http.IncomingMessage): string | undefined {
    if (!LOOPBACK.has(o.host)) return undefined;
    const host = req.headers.host ?? '';
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host) ? undefined : `Host "${host.slice(0, 100)}" is not this service`;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const url = new URL(req.url ?? '/', 'http://fleet.invalid');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    try {
      if (p === `/${ENROL_PATH}` || p === `/${REPORT_PATH}`) {
        if (method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { Allow: 'POST' });
        const text = await readBody(req, MAX_FLEET_DOC, bodyTimeout);
        const now = new Date();
        if (p === `/${ENROL_PATH}`) {
          const env = checkEnrolRequest(parseJson(text));
          const who = `${env.signed.site}/${env.signed.host}`;
          // Signed by the key it asks us to pin: proves the sender holds that key.
          if (!signedBy(env, env.signed.signingKey)) {
            o.log(`enrol ${who} from ${ip}: refused, not signed by its own signingKey`);
            return sendJson(res, 403, { error: 'the enrolment request is not signed by its signingKey' });
          }
          const a = await o.store.enrol(env, { channel: 'network', now });
          o.log(`enrol ${who} from ${ip}: ${a.status}${a.approval ? ` (${a.approval.signed.by})` : ''}${a.duplicate ? ' (again)' : ''}`);
          const { duplicate: _d, ...answer } = a;
          return sendJson(res, 200, answer);
        }
        const env = checkReport(parseJson(text));
        const out = await reports.add({ env, r: { channel: 'network', now } });
        o.log(`report ${env.signed.site}/${env.signed.host} from ${ip}: ${out.duplicate ? 'already stored' : out.trust}${out.reason ? ` (${out.reason})` : ''}`);
        return sendJson(res, 202, { stored: true, trust: out.trust, duplicate: out.duplicate });
      }

      if (p === '/' || p === '/index.html' || p === '/host' || p.startsWith('/api/')) {
        const refused = foreignHost(req);
        if (refused) return sendJson(res, 421, { error: refused });
      }
      if (p === '/' || p === '/index.html') {
        if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: 'GET only' }, { Allow: 'GET, HEAD' });
        const q = pageQuery(url.searchParams);
        const [counts, hosts, waiting] = await Promise.all([
          o.store.counts(),
          o.store.hosts({ site: q.site, state: q.state, text: q.text, limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }),
          o.store.waiting({ site: q.site, limit: PAGE_SIZE }),
        ]);
        return sendHtml(res, 200, renderFleet({ q, counts, hosts, waiting }), SCRIPT_SOURCE);
      }
      if (p === '/host') {
        const { site, host } = siteHost(url.searchParams.get('site'), url.searchParams.get('host'));
        const [row, events, enrolments] = await Promise.all([o.store.host(site, host), o.store.history(site, host, 200), o.store.enrolments(site, host)]);
        return sendHtml(res, row || events.length ? 200 : 404, renderHost({ site, host, row, events, enrolments }), SCRIPT_SOURCE);
      }
      if (p === '/api/hosts' && method === 'GET') {
        const q = pageQuery(url.searchParams);
        return sendJson(res, 200, await o.store.hosts({ site: q.site, state: q.state, text: q.text, limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }));
      }
      if (p === '/api/waiting' && method === 'GET') {
        const q = pageQuery(url.searchParams);
        return sendJson(res, 200, await o.store.waiting({ site: q.site, limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }));
      }
      if ((p === '/api/approve' || p === '/api/reject') && method === 'POST') {
        const refused = sameOrigin(req);
        if (refused) {
          o.log(`${p.slice(5)} refused from ${ip}: ${refused}`);
          return sendJson(res, 403, { error: refused });
        }
        const body = parseJson(await readBody(req, 4096, bodyTimeout));
        const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        const { site, host } = siteHost(b.site, b.host);
        const id = b.enrolment === undefined || b.enrolment === null ? undefined : Number(b.enrolment);
        if (id !== undefined && !Number.isSafeInteger(id)) throw new DocumentError('enrolment', 'must be an enrolment id');
        const now = new Date();
        if (p === '/api/approve') {
          const a = await o.store.approve(site, host, now, id);
          o.log(`approved ${site}/${host} (enrolment ${a.enrolment}) from the page, ${ip}`);
          return sendJson(res, 200, { status: 'approved', enrolment: a.enrolment });
        }
        const n = await o.store.reject(site, host, now, id);
        o.log(`rejected ${site}/${host} (${n} enrolment${n > 1 ? 's' : ''}) from the page, ${ip}`);
        return sendJson(res, 200, { status: 'rejected', enrolments: n });
      }
      return sendJson(res, 404, { error: 'not found' });
    } catch (e) {
      if (e instanceof HttpError) {
        o.log(`${method} ${p} from ${ip}: ${e.status} ${e.message}`);
        sendJson(res, e.status, { error: e.message }, { Connection: 'close' });
        // A refused oversized body is not read to the end: drop the connection.
        if (e.status === 413 || e.status === 408) req.destroy();
        return;
      }
      if (e instanceof DocumentError) {
        o.log(`${method} ${p} from ${ip}: 400 ${e.message}`);
        return sendJson(res, 400, { error: e.message });
      }
      if (e instanceof FleetStateError) return sendJson(res, 409, { error: e.message, ...(e.hint ? { hint: e.hint } : {}) });
      throw e;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new BuildError(`${o.host}:${o.port} is already in use (another xsbuild fleet serve?)`, 'stop it, or choose another port with --listen ADDR:PORT'));
      else if (e.code === 'EADDRNOTAVAIL') reject(new InputError({ file: '--listen' }, `${o.host} is not an address of this machine`, 'give one of its addresses, or 127.0.0.1'));
      else if (e.code === 'EACCES') reject(new BuildError(`not allowed to listen on ${o.host}:${o.port}`, 'ports below 1024 need root; choose another port with --listen'));
      else reject(e);
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  port = addr.port;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function pageQuery(sp: URLSearchParams): { site?: string; state?: string; text?: string; page: number } {
  const site = sp.get('site')?.trim() || undefined;
  const state = sp.get('state')?.trim() || undefined;
  const text = sp.get('q')?.trim().slice(0, 100) || undefined;
  const page = Math.max(1, Math.min(1_000_000, Math.floor(Number(sp.get('page') ?? 1)) || 1));
  if (state && !['approved', 'pending', 'rejected', 'conflict'].includes(state)) throw new DocumentError('state', 'must be approved, pending, rejected or conflict');
  return { site, state, text, page };
}

function siteHost(site: unknown, host: unknown): { site: string; host: string } {
  if (typeof site !== 'string' || !SITE_RE.test(site)) throw new DocumentError('site', 'must be a site name');
  if (typeof host !== 'string' || !HOST_RE.test(host)) throw new DocumentError('host', 'must be a host name');
  return { site, host };
}
