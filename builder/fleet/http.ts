// Small HTTP pieces the fleet service needs: a bounded body reader and JSON answers.
import type http from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reads at most `max` bytes; a larger body is refused (413) without reading it all. */
export function readBody(req: http.IncomingMessage, max: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) {
      reject(new HttpError(413, `body larger than ${max} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    // A client that sends its body slowly holds a connection: bounded in time too.
    const timer = setTimeout(() => finish(new HttpError(408, `body not received within ${timeoutMs} ms`)), timeoutMs);
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) finish(new HttpError(413, `body larger than ${max} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => finish());
    req.on('error', (e) => finish(new HttpError(400, e.message)));
    req.on('aborted', () => finish(new HttpError(400, 'request aborted')));
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...extra });
  res.end(text);
}

export function sendHtml(res: http.ServerResponse, status: number, body: string, scriptSource: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    // The page runs only its own inline script; report text can never become markup or script.
    'Content-Security-Policy': `default-src 'none'; script-src ${scriptSource}; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(body);
}
