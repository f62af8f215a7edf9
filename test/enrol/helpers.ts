// A fake target with NICs, machine-id and an agent config with a fleet section; a test
// office key; and a small fleet service on loopback that checks each enrolment's
// signature and answers as the test tells it.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { canonical } from '../../agent/pull/canonical.js';
import { keyId, signDoc, verifyBytes, type Envelope } from '../../agent/pull/sign.js';
import type { Approval, EnrolAnswer, EnrolRequest } from '../../agent/fleet/wire.js';
import { addNic, makeRoot, writeConfig, MAC_A, MAC_B } from '../agent/fixtures.js';

export const MACHINE_ID = '0123456789abcdef0123456789abcdef';
export const TOKEN = 'tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

export interface OfficeKey {
  publicKey: string;
  privateKey: KeyObject;
}

export function officeKey(): OfficeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  return { publicKey: Buffer.from(jwk.x, 'base64url').toString('base64'), privateKey };
}

export function approvalFor(req: { site: string; host: string; signingKey: string; sealKey: string; macs: string[] }, key: OfficeKey, by: Approval['by'] = 'token'): Envelope<Approval> {
  const a: Approval = { _type: 'xs-approval', spec: 1, site: req.site, host: req.host, signingKey: req.signingKey, sealKey: req.sealKey, macs: req.macs, by, approved: '2026-12-01T10:00:00Z' };
  return signDoc(a, [key]);
}

/** A target root for host `host`, config pointing at `fleetUrl`. */
export function makeServerRoot(t: { after: (fn: () => void) => void }, o: { host: string; fleetUrl: string; office: OfficeKey; token?: boolean; extra?: Record<string, unknown> }): string {
  const root = makeRoot(t);
  addNic(root, { name: 'ens4', mac: MAC_B });
  addNic(root, { name: 'ens3', mac: MAC_A });
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/machine-id'), `${MACHINE_ID}\n`);
  writeConfig(root, { site: 'rioja', release: 'rioja-1', hostname: o.host, roles: [{ name: 'wan', other: true }], fleet: { url: o.fleetUrl, publicKey: o.office.publicKey }, ...o.extra });
  if (o.token) writeFileSync(path.join(root, 'etc/xs-agent/enrol-token'), `${TOKEN}\n`, { mode: 0o600 });
  return root;
}

export type Answerer = (req: EnrolRequest) => EnrolAnswer;

export interface FakeFleet {
  url: string;
  requests: Envelope<EnrolRequest>[];
  reports: Envelope<Record<string, unknown>>[];
  bodies: string[];
  answer: Answerer;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => res(b));
  });
}

/** The fleet service's side of v1/enrol and v1/report, enough to test the agent. */
export async function fakeFleet(t: { after: (fn: () => void) => void }, answer: Answerer): Promise<FakeFleet> {
  const f: FakeFleet = { url: '', requests: [], reports: [], bodies: [], answer };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    f.bodies.push(body);
    const env = JSON.parse(body) as Envelope<EnrolRequest>;
    if (req.url === '/fleet/v1/report') {
      f.reports.push(env as unknown as Envelope<Record<string, unknown>>);
      res.writeHead(202).end();
      return;
    }
    if (req.url !== '/fleet/v1/enrol') {
      res.writeHead(404).end();
      return;
    }
    const r = env.signed;
    const sig = env.signatures.find((s) => s.keyid === keyId(r.signingKey));
    if (!sig || !verifyBytes(Buffer.from(canonical(r)), sig.sig, r.signingKey)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'rejected', message: 'bad signature' }));
      return;
    }
    f.requests.push(env);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(f.answer(r)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fleet/`;
  return f;
}
