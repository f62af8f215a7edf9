// POST the status to the install server (`xsbuild serve` shows it in its room view).
// Best effort and bounded: a school without a link must not wait on it.
import { redactUrl, withoutCredentials } from './log.js';
import type { StatusDoc } from './status.js';

export interface ReportBody {
  hostname: string;
  macs: string[];
  status: StatusDoc;
}

export async function postStatus(url: string, body: ReportBody, timeoutMs: number): Promise<void> {
  await postJson(url, body, timeoutMs);
}

/** POST a JSON document; credentials in the URL go as Basic auth and never into a message. */
export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const target = withoutCredentials(url);
  const r = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((e: Error) => {
    const why = e.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : ((e.cause as Error | undefined)?.message ?? e.message);
    throw new Error(`POST ${redactUrl(url)}: ${why}`);
  });
  await r.body?.cancel();
  if (!r.ok) throw new Error(`POST ${redactUrl(url)}: HTTP ${r.status}`);
}
