// Pull reports. Every report is signed with this server's own Ed25519 key (see
// agent/fleet/identity.ts); the report carries only the public half, so the central
// office can pin a server's key the first time it hears from it, and a sequence number
// that only grows, so it can tell a replayed old report from a new one.
// Connected: POSTed to the fleet service (`${fleet.url}v1/report`) and/or report.url.
// From a stick: written onto the stick as reports/<host>.json, so the office learns what
// a disconnected school applied.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isNotFound, writeFileAtomic } from '../fsutil.js';
import { postJson } from '../report.js';
import { AGENT_VERSION } from '../version.js';
import { loadIdentity } from '../fleet/identity.js';
import { signDoc, type Envelope } from './sign.js';
import { reportPath } from './format.js';
import type { StateDir } from './state.js';
import type { PullStatus } from './status.js';

export interface ReportDoc extends PullStatus {
  _type: 'xs-report';
  host: string;
  site: string;
  publicKey: string;
  /** 1, 2, 3, ...: one more for every report this server signs (report-seq.json). */
  seq: number;
  agentVersion: string;
}

export const SEQ_FILE = 'report-seq.json';

/**
 * The next report sequence number, persisted before it is used: a crash after this
 * leaves a gap, never a number used twice. Concurrent callers are serialised by a lock
 * file beside it.
 */
export async function nextSeq(state: StateDir): Promise<number> {
  const file = state.p(SEQ_FILE);
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      await (await fsp.open(lock, 'wx')).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than a few seconds was left by a killed agent.
      const st = await fsp.stat(lock).catch(() => undefined);
      if (i > 50 || (st && Date.now() - st.mtimeMs > 10_000)) await fsp.rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    const text = await fsp.readFile(file, 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    let last = 0;
    if (text !== undefined) {
      const v = (JSON.parse(text) as { seq?: unknown }).seq;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${file}: "seq" is not a whole number; set it to a number above the last report the office saw`);
      last = v;
    }
    await writeFileAtomic(file, JSON.stringify({ seq: last + 1 }) + '\n', 0o644);
    return last + 1;
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

export async function signedReport(state: StateDir, host: string, site: string, status: PullStatus): Promise<Envelope<ReportDoc>> {
  const id = await loadIdentity(state.dir);
  const seq = await nextSeq(state);
  const doc: ReportDoc = { _type: 'xs-report', host, site, publicKey: id.signing.publicKey, seq, agentVersion: AGENT_VERSION, ...status };
  return signDoc(JSON.parse(JSON.stringify(doc)) as ReportDoc, [id.signing]);
}

/** FAT-safe file name for the host. */
export function reportName(host: string): string {
  return host.toLowerCase().replace(/[^a-z0-9.-]/g, '_').slice(0, 64) || 'unknown';
}

export async function writeStickReport(stickDir: string, report: Envelope<ReportDoc>): Promise<string> {
  const file = path.join(stickDir, reportPath(reportName(report.signed.host)));
  await writeFileAtomic(file, JSON.stringify(report, null, 1) + '\n', 0o644);
  return file;
}

export async function postReport(url: string, report: Envelope<ReportDoc>, timeoutMs: number): Promise<void> {
  await postJson(url, report, timeoutMs);
}
