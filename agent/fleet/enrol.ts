// Enrolment with the central office (agent/fleet/wire.ts): the server sends a signed
// request naming itself and its two public keys; the office answers pending, approved
// (with an Approval signed by the office key), rejected or conflict. Connected, the
// request is POSTed to `${fleet.url}v1/enrol`; from a stick it is written as
// enrol/<host>.json and the office's answer comes back as approvals/<host>.json.
//
// An approval is only kept when it verifies against the office key in the config
// (fleet.publicKey) and names this site, this host and exactly this server's keys: a
// forged approval, or one for keys this server does not have (another install of the
// same host), is refused and nothing is kept.
//
// State (in the update state directory):
//   approval.json  the verified Envelope<Approval>
//   enrol.json     the last attempt: status, when, how (network or stick), message
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FleetConfig } from '../config.js';
import { isNotFound, writeFileAtomic, type TargetFs } from '../fsutil.js';
import { redactUrl } from '../log.js';
import { discoverNics } from '../nics.js';
import { postJsonForAnswer } from '../report.js';
import { AGENT_VERSION } from '../version.js';
import { countValid, keyId, signDoc, type Envelope } from '../pull/sign.js';
import { StateDir } from '../pull/state.js';
import { reportName } from '../pull/report.js';
import { ENROL_PATH, FLEET_SPEC, MAX_FLEET_DOC, stickApprovalPath, stickEnrolPath, type Approval, type EnrolAnswer, type EnrolRequest, type EnrolState } from './wire.js';
import { loadIdentity, publicHalves, type Identity } from './identity.js';

export const TOKEN_PATH = '/etc/xs-agent/enrol-token';
export const APPROVAL_FILE = 'approval.json';
export const ENROL_STATE_FILE = 'enrol.json';

/** Exit codes of `xs-agent enrol`. */
export const ENROL_EXIT = { approved: 0, failed: 1, refused: 2, pending: 3 } as const;

export type EnrolOutcome = EnrolState | 'refused' | 'failed';

/** enrol.json: what the last attempt gave. Never holds a token or a private key. */
export interface EnrolRecord {
  status: EnrolOutcome;
  at: string;
  via: 'network' | 'stick';
  /** Where: the URL (credentials removed) or the stick file. */
  where: string;
  message?: string;
}

export interface EnrolResult extends EnrolRecord {
  approval?: Approval;
}

/** Bad input or a refused answer: exit 2, nothing kept. */
export class EnrolRefused extends Error {}

export interface EnrolContext {
  fs: TargetFs;
  state: StateDir;
  site: string;
  release: string;
  host: string;
  fleet: FleetConfig;
  log: (line: string) => void;
  timeoutMs?: number;
}

/** The host name the agent reports under: config (when not a template), /etc/hostname, the kernel's. */
export async function hostName(fs: TargetFs, configured: string | undefined): Promise<string> {
  if (configured && !configured.includes('{')) return configured;
  return (await fs.readTextOr('/etc/hostname', '')).trim() || os.hostname();
}

export async function buildRequest(c: EnrolContext, id: Identity): Promise<EnrolRequest> {
  const macs = [...new Set((await discoverNics(c.fs)).map((n) => n.mac.toLowerCase()))].sort();
  const midFile = c.fs.p('/etc/machine-id');
  const machineId = (await c.fs.readTextOr('/etc/machine-id', '')).trim();
  if (!/^[0-9a-f]{32}$/.test(machineId)) {
    throw new Error(`${midFile}: ${machineId ? 'not a machine id (32 hex digits)' : 'missing or empty'}; run systemd-machine-id-setup, then enrol again`);
  }
  const current = await c.state.readRelease('current.json').catch(() => undefined);
  const token = (await c.fs.readTextOr(TOKEN_PATH, '')).trim();
  const pub = publicHalves(id);
  return {
    _type: 'xs-enrol',
    spec: FLEET_SPEC,
    site: c.site,
    host: c.host,
    macs,
    machineId,
    release: current?.signed.release ?? c.release,
    version: current?.signed.version ?? null,
    agentVersion: AGENT_VERSION,
    signingKey: pub.signingKey,
    sealKey: pub.sealKey,
    ...(token ? { token } : {}),
    created: new Date().toISOString(),
  };
}

/**
 * An approval, checked: the office's signature, and that it is for this site, host and
 * these keys. Throws EnrolRefused saying what is wrong (never echoing a key's private half).
 */
export function verifyApproval(env: unknown, c: { site: string; host: string; fleet: FleetConfig }, id: Identity, where: string): Envelope<Approval> {
  const fail = (why: string): never => {
    throw new EnrolRefused(`${where}: approval refused: ${why}; nothing was kept`);
  };
  if (typeof env !== 'object' || env === null || Array.isArray(env)) fail('not a signed document');
  const e = env as { signed?: unknown; signatures?: unknown };
  if (typeof e.signed !== 'object' || e.signed === null || !Array.isArray(e.signatures)) fail('not a signed document (needs "signed" and "signatures")');
  const sigs = (e.signatures as unknown[]).filter((s): s is { keyid: string; sig: string } => typeof s === 'object' && s !== null && typeof (s as { keyid?: unknown }).keyid === 'string' && typeof (s as { sig?: unknown }).sig === 'string');
  const a = e.signed as Record<string, unknown>;
  const envelope: Envelope<Approval> = { signed: a as unknown as Approval, signatures: sigs.map((s) => ({ keyid: s.keyid, sig: s.sig })) };
  if (countValid(envelope, { [keyId(c.fleet.publicKey)]: c.fleet.publicKey }) < 1) {
    fail(`not signed by the office key in the config (fleet.publicKey ${keyId(c.fleet.publicKey).slice(0, 16)}); it is forged, damaged or from another office`);
  }
  if (a._type !== 'xs-approval') fail('signed._type is not "xs-approval"');
  if (a.spec !== FLEET_SPEC) fail(`format ${String(a.spec)} is not supported (this agent reads ${FLEET_SPEC}); update the agent`);
  if (a.site !== c.site) fail(`it is for site "${String(a.site)}", this server is "${c.site}"`);
  if (a.host !== c.host) fail(`it is for host "${String(a.host)}", this server is "${c.host}"`);
  const pub = publicHalves(id);
  if (a.signingKey !== pub.signingKey || a.sealKey !== pub.sealKey) {
    fail('it approves other keys than this server\'s (another install of this host was approved; ask the office to approve this one)');
  }
  if (!Array.isArray(a.macs) || !a.macs.every((m) => typeof m === 'string')) fail('signed.macs is not a list of MACs');
  if (a.by !== 'token' && a.by !== 'operator') fail('signed.by is not "token" or "operator"');
  if (typeof a.approved !== 'string' || Number.isNaN(Date.parse(a.approved))) fail('signed.approved is not a time');
  return envelope;
}

function checkAnswer(json: unknown, where: string): EnrolAnswer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new EnrolRefused(`${where}: the answer is not a JSON object; is fleet.url the fleet service?`);
  const a = json as Record<string, unknown>;
  const states: EnrolState[] = ['approved', 'pending', 'rejected', 'conflict'];
  if (!states.includes(a.status as EnrolState)) throw new EnrolRefused(`${where}: answer status "${String(a.status).slice(0, 40)}" is not one of ${states.join(', ')}`);
  const out: EnrolAnswer = { status: a.status as EnrolState };
  if (typeof a.message === 'string') out.message = a.message.slice(0, 500);
  if (a.approval !== undefined) out.approval = a.approval as Envelope<Approval>;
  if (out.status === 'approved' && out.approval === undefined) throw new EnrolRefused(`${where}: answer says approved but carries no approval`);
  return out;
}

/** The kept approval, if it still verifies and matches this server's current keys. */
export async function keptApproval(c: { state: StateDir; site: string; host: string; fleet: FleetConfig }, id: Identity): Promise<Envelope<Approval> | undefined> {
  const env = await c.state.readJson<unknown>(APPROVAL_FILE).catch(() => undefined);
  if (env === undefined) return undefined;
  try {
    return verifyApproval(env, c, id, c.state.p(APPROVAL_FILE));
  } catch {
    return undefined;
  }
}

async function keep(c: EnrolContext, approval: Envelope<Approval>): Promise<void> {
  await c.state.writeJson(APPROVAL_FILE, approval);
  // The token is single-use and now spent: it has no business staying on the disk.
  await fsp.rm(c.fs.p(TOKEN_PATH), { force: true });
}

async function record(c: EnrolContext, r: EnrolResult): Promise<EnrolResult> {
  const { approval: _a, ...rec } = r;
  await c.state.writeJson(ENROL_STATE_FILE, rec);
  return r;
}

/** Enrol over the network. Refusals throw EnrolRefused; network trouble throws Error. */
export async function enrolOnline(c: EnrolContext): Promise<EnrolResult> {
  const id = await loadIdentity(c.state.dir);
  const url = `${c.fleet.url}${ENROL_PATH}`;
  const where = redactUrl(url);
  const base = { at: new Date().toISOString(), via: 'network' as const, where };
  try {
    const req = await buildRequest(c, id);
    const env = signDoc(req, [id.signing]);
    const ans = await postJsonForAnswer(url, env, c.timeoutMs ?? 15_000, MAX_FLEET_DOC);
    if (ans.status === 400 || ans.status === 403) {
      const msg = (ans.json as { message?: unknown } | undefined)?.message;
      throw new EnrolRefused(`POST ${where}: HTTP ${ans.status}${typeof msg === 'string' ? `: ${msg.slice(0, 300)}` : ''}${ans.status === 403 ? ' (the office did not accept the request\'s signature)' : ''}`);
    }
    if (ans.status < 200 || ans.status > 299) throw new Error(`POST ${where}: HTTP ${ans.status}; retried at the next pull`);
    const answer = checkAnswer(ans.json, `POST ${where}`);
    if (answer.status !== 'approved') return record(c, { ...base, status: answer.status, ...(answer.message ? { message: answer.message } : {}) });
    const approval = verifyApproval(answer.approval, c, id, `POST ${where}`);
    await keep(c, approval);
    return record(c, { ...base, status: 'approved', approval: approval.signed, message: `approved by ${approval.signed.by} at ${approval.signed.approved}` });
  } catch (e) {
    await record(c, { ...base, status: e instanceof EnrolRefused ? 'refused' : 'failed', message: (e as Error).message }).catch(() => undefined);
    throw e;
  }
}

/**
 * Enrol through a stick (the bundle directory): use approvals/<host>.json if the office
 * put one there, else write enrol/<host>.json for the office to import.
 */
export async function enrolStick(c: EnrolContext, stickDir: string): Promise<EnrolResult> {
  const id = await loadIdentity(c.state.dir);
  const name = reportName(c.host);
  const approvalFile = path.join(stickDir, stickApprovalPath(name));
  const base = { at: new Date().toISOString(), via: 'stick' as const };
  try {
    const text = await fsp.readFile(approvalFile, 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    const file = path.join(stickDir, stickEnrolPath(name));
    const writeRequest = async () => {
      const req = await buildRequest(c, id);
      await writeFileAtomic(file, JSON.stringify(signDoc(req, [id.signing]), null, 1) + '\n', 0o644);
      c.log(`xs-agent: enrolment request written to ${file}; the office imports it and puts the approval on the stick`);
    };
    if (text !== undefined) {
      let approval: Envelope<Approval>;
      try {
        let env: unknown;
        try {
          env = JSON.parse(text);
        } catch {
          throw new EnrolRefused(`${approvalFile}: approval refused: not valid JSON; nothing was kept`);
        }
        approval = verifyApproval(env, c, id, approvalFile);
      } catch (e) {
        // A stale or forged approval must not keep this server from asking: the request
        // with its real keys goes onto the stick all the same.
        if (e instanceof EnrolRefused) await writeRequest();
        throw e;
      }
      await keep(c, approval);
      return record(c, { ...base, where: approvalFile, status: 'approved', approval: approval.signed, message: `approved by ${approval.signed.by} at ${approval.signed.approved}` });
    }
    await writeRequest();
    return record(c, { ...base, where: file, status: 'pending', message: 'request written to the stick; waiting for the office\'s approval' });
  } catch (e) {
    await record(c, { ...base, where: approvalFile, status: e instanceof EnrolRefused ? 'refused' : 'failed', message: (e as Error).message }).catch(() => undefined);
    throw e;
  }
}

/** For `xs-agent status`: the last attempt and the kept approval (public data only). */
export async function readEnrolment(state: StateDir): Promise<{ last?: EnrolRecord; approval?: Approval }> {
  const last = await state.readJson<EnrolRecord>(ENROL_STATE_FILE).catch(() => undefined);
  const env = await state.readJson<Envelope<Approval>>(APPROVAL_FILE).catch(() => undefined);
  return { ...(last ? { last } : {}), ...(env?.signed ? { approval: env.signed } : {}) };
}
