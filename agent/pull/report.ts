// Pull reports. Every report is signed with this server's own Ed25519 key, made at the
// first pull and kept in the state directory (0600); the report carries only the public
// half, so the central office can pin a server's key the first time it hears from it.
// Connected: POSTed to report.url. From a stick: written onto the stick as
// reports/<host>.json, so the office learns what a disconnected school applied.
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { postJson } from '../report.js';
import { signDoc, privateKeyFromJwk, publicKeyToBase64, type Envelope } from './sign.js';
import { reportPath } from './format.js';
import type { StateDir } from './state.js';
import type { PullStatus } from './status.js';

export interface ReportDoc extends PullStatus {
  _type: 'xs-report';
  host: string;
  site: string;
  publicKey: string;
}

async function serverKey(state: StateDir): Promise<{ publicKey: string; privateKey: ReturnType<typeof privateKeyFromJwk> }> {
  const file = state.p('server-key.json');
  const have = await fsp.readFile(file, 'utf8').then((t) => JSON.parse(t) as { publicKey: string; d: string }, () => undefined);
  if (have) {
    const privateKey = privateKeyFromJwk(have.d, Buffer.from(have.publicKey, 'base64').toString('base64url'));
    return { publicKey: publicKeyToBase64(createPublicKey(privateKey)), privateKey };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  const publicKey = Buffer.from(jwk.x, 'base64url').toString('base64');
  await writeFileAtomic(file, JSON.stringify({ type: 'xs-server-key', publicKey, d: jwk.d }) + '\n', 0o600);
  return { publicKey, privateKey };
}

export async function signedReport(state: StateDir, host: string, site: string, status: PullStatus): Promise<Envelope<ReportDoc>> {
  const key = await serverKey(state);
  const doc: ReportDoc = { _type: 'xs-report', host, site, publicKey: key.publicKey, ...status };
  return signDoc(JSON.parse(JSON.stringify(doc)) as ReportDoc, [key]);
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
