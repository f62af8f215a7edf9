// Checks the documents a school server sends (enrolment requests, pull reports) before
// any of it is used. Everything here is untrusted input: from the network or from a
// stick that went through a school. Errors name the field; they never echo a value
// (a value may be a token).
import { createHash } from 'node:crypto';
import { canonical } from '../../agent/pull/canonical.js';
import { countValid, keyId, publicKeyFromBase64, type Envelope } from '../../agent/pull/sign.js';
import { FLEET_SPEC, MAX_FLEET_DOC, type EnrolRequest } from '../../agent/fleet/wire.js';
import type { ReportDoc } from '../../agent/pull/report.js';

export class DocumentError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'DocumentError';
  }
}

export const SITE_RE = /^[a-z0-9][a-z0-9-]{0,38}$/;
export const HOST_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;
const AGE_RE = /^age1[02-9ac-hj-np-z]{58}$/;
const RESULTS = new Set(['applied', 'up-to-date', 'no-source', 'refused', 'rolled-back', 'failed']);

/** A report as it arrives: agents from before enrolment send no seq or agentVersion. */
export interface FleetReport extends Omit<ReportDoc, 'seq' | 'agentVersion'> {
  seq?: number;
  agentVersion?: string;
}

/** JSON text -> value, bounded. */
export function parseJson(text: string): unknown {
  if (Buffer.byteLength(text) > MAX_FLEET_DOC) throw new DocumentError('document', `larger than ${MAX_FLEET_DOC} bytes`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DocumentError('document', `not JSON (${(e as Error).message.replace(/ in JSON at.*$/, '')})`);
  }
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DocumentError(field, 'must be an object');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, where: string, re?: RegExp, max = 256): string {
  const v = o[k];
  if (typeof v !== 'string') throw new DocumentError(`${where}.${k}`, 'must be a string');
  if (v.length > max) throw new DocumentError(`${where}.${k}`, `longer than ${max} characters`);
  if (re && !re.test(v)) throw new DocumentError(`${where}.${k}`, `has the wrong form (${re.source})`);
  return v;
}

function optStr(o: Record<string, unknown>, k: string, where: string, max = 4096): void {
  if (o[k] !== undefined) str(o, k, where, undefined, max);
}

function intOrNull(o: Record<string, unknown>, k: string, where: string): void {
  const v = o[k];
  if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) throw new DocumentError(`${where}.${k}`, 'must be a non-negative integer or null');
}

function isoTime(o: Record<string, unknown>, k: string, where: string): void {
  const v = str(o, k, where, undefined, 40);
  if (Number.isNaN(Date.parse(v))) throw new DocumentError(`${where}.${k}`, 'must be an ISO time');
}

function envelope(v: unknown): Envelope<Record<string, unknown>> {
  const e = obj(v, 'envelope');
  obj(e.signed, 'signed');
  if (!Array.isArray(e.signatures) || e.signatures.length < 1 || e.signatures.length > 8) throw new DocumentError('signatures', 'must be a list of 1 to 8 signatures');
  e.signatures.forEach((s, i) => {
    const so = obj(s, `signatures[${i}]`);
    str(so, 'keyid', `signatures[${i}]`, /^[0-9a-f]{64}$/);
    str(so, 'sig', `signatures[${i}]`, /^[A-Za-z0-9+/]{86}==$/);
  });
  for (const k of Object.keys(e)) if (k !== 'signed' && k !== 'signatures') throw new DocumentError(k, 'unknown envelope field');
  try {
    canonical(e);
  } catch (err) {
    throw new DocumentError('document', (err as Error).message);
  }
  return e as unknown as Envelope<Record<string, unknown>>;
}

/** sha256 of the envelope's canonical JSON: the same document always gives the same id. */
export function documentId(env: Envelope<unknown>): string {
  return createHash('sha256').update(canonical(env)).digest('hex');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function validKey(b64: string, field: string): void {
  try {
    publicKeyFromBase64(b64);
  } catch {
    throw new DocumentError(field, 'is not an Ed25519 public key');
  }
}

export function checkEnrolRequest(v: unknown): Envelope<EnrolRequest> {
  const e = envelope(v);
  const s = e.signed;
  const w = 'signed';
  if (s._type !== 'xs-enrol') throw new DocumentError(`${w}._type`, 'must be "xs-enrol"');
  if (s.spec !== FLEET_SPEC) throw new DocumentError(`${w}.spec`, `must be ${FLEET_SPEC}`);
  str(s, 'site', w, SITE_RE);
  str(s, 'host', w, HOST_RE);
  if (!Array.isArray(s.macs) || s.macs.length < 1 || s.macs.length > 64) throw new DocumentError(`${w}.macs`, 'must be a list of 1 to 64 MAC addresses');
  s.macs.forEach((m, i) => {
    if (typeof m !== 'string' || !MAC_RE.test(m)) throw new DocumentError(`${w}.macs[${i}]`, 'must be a lower-case colon-separated MAC address');
  });
  str(s, 'machineId', w, /^[0-9a-f]{32}$/);
  str(s, 'release', w, undefined, 64);
  intOrNull(s, 'version', w);
  str(s, 'agentVersion', w, undefined, 64);
  str(s, 'signingKey', w, KEY_RE);
  validKey(s.signingKey as string, `${w}.signingKey`);
  str(s, 'sealKey', w, AGE_RE);
  if (s.token !== undefined) str(s, 'token', w, /^[A-Za-z0-9_-]{16,128}$/);
  isoTime(s, 'created', w);
  return e as unknown as Envelope<EnrolRequest>;
}

export function checkReport(v: unknown): Envelope<FleetReport> {
  const e = envelope(v);
  const s = e.signed;
  const w = 'signed';
  if (s._type !== 'xs-report') throw new DocumentError(`${w}._type`, 'must be "xs-report"');
  str(s, 'site', w, SITE_RE);
  str(s, 'host', w, HOST_RE);
  str(s, 'publicKey', w, KEY_RE);
  isoTime(s, 'at', w);
  str(s, 'source', w, undefined, 1024);
  if (typeof s.result !== 'string' || !RESULTS.has(s.result)) throw new DocumentError(`${w}.result`, `must be one of ${[...RESULTS].join(', ')}`);
  intOrNull(s, 'version', w);
  if (s.seq !== undefined && !(Number.isSafeInteger(s.seq) && (s.seq as number) >= 0)) throw new DocumentError(`${w}.seq`, 'must be a non-negative integer');
  optStr(s, 'agentVersion', w, 64);
  optStr(s, 'release', w, 64);
  optStr(s, 'error', w);
  optStr(s, 'hint', w);
  return e as unknown as Envelope<FleetReport>;
}

/** Whether the envelope carries a valid signature by this Ed25519 public key. */
export function signedBy(env: Envelope<unknown>, publicKey: string): boolean {
  return countValid(env, { [keyId(publicKey)]: publicKey }) >= 1;
}
