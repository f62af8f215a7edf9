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
  const r = await send(url, body, timeoutMs);
  await r.body?.cancel();
  if (!r.ok) throw new Error(`POST ${redactUrl(url)}: HTTP ${r.status}`);
}

export interface JsonAnswer {
  status: number;
  /** The parsed JSON body; undefined when the body was not JSON. */
  json: unknown;
  /** The start of a body that was not JSON (for messages). */
  text?: string;
}

/**
 * POST a JSON document and read the JSON answer, whatever the HTTP status. The answer is
 * bounded in size (`maxBytes`) and, with the request, in time (`timeoutMs`), so a wrong or
 * hostile server cannot make the agent hang or fill its memory.
 */
export async function postJsonForAnswer(url: string, body: unknown, timeoutMs: number, maxBytes: number): Promise<JsonAnswer> {
  const shown = redactUrl(url);
  const r = await send(url, body, timeoutMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = r.body?.getReader();
    for (;;) {
      const part = reader ? await reader.read() : { done: true as const, value: undefined };
      if (part.done) break;
      size += part.value.length;
      if (size > maxBytes) {
        await reader?.cancel();
        throw new Error(`POST ${shown}: answer larger than ${maxBytes} bytes (HTTP ${r.status}); is this the right URL?`);
      }
      chunks.push(part.value);
    }
  } catch (e) {
    const err = e as Error;
    if (err.message.startsWith('POST ')) throw err;
    throw new Error(`POST ${shown}: ${err.name === 'TimeoutError' ? `no complete answer within ${Math.round(timeoutMs / 1000)} s` : err.message}`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { status: r.status, json: JSON.parse(text) as unknown };
  } catch {
    return { status: r.status, json: undefined, text: text.slice(0, 200) };
  }
}

async function send(url: string, body: unknown, timeoutMs: number): Promise<Response> {
  const target = withoutCredentials(url);
  return fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((e: Error) => {
    const why = e.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : ((e.cause as Error | undefined)?.message ?? e.message);
    throw new Error(`POST ${redactUrl(url)}: ${why}`);
  });
}
