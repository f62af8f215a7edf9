// Plain log lines on stdout: under systemd they go to the journal as they are.
// Secrets never reach the log: URLs lose their user info and query string.

export type Logger = (line: string) => void;

export const stdoutLogger: Logger = (line) => {
  process.stdout.write(`${line}\n`);
};

/** "http://user:pw@host/p?token=x" -> "http://***@host/p?***". Non-URLs pass through. */
export function redactUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return s;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return s;
  const auth = u.username || u.password ? '***@' : '';
  const query = u.search ? '?***' : '';
  return `${u.protocol}//${auth}${u.host}${u.pathname}${query}`;
}

/**
 * fetch() refuses URLs with user info; move it into an Authorization header instead
 * (the form a deployment may put in report.url or library.source).
 */
export function withoutCredentials(s: string): { url: string; headers: Record<string, string> } {
  const u = new URL(s);
  if (!u.username && !u.password) return { url: s, headers: {} };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), headers: { authorization: `Basic ${basic}` } };
}
