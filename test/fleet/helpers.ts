// Fleet test helpers: a real PostgreSQL server started and stopped by the test (Debian's
// postgresql package), simulated school servers that sign enrolments and reports, and
// an office key. Every external program a test needs is started here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publicKeyToBase64, signDoc, type Envelope } from '../../agent/pull/sign.js';
import { FLEET_SPEC, type EnrolRequest } from '../../agent/fleet/wire.js';
import { generateKeys, loadSigningKey, type SigningKey } from '../../builder/updates/keys.js';
import type { FleetReport } from '../../builder/fleet/documents.js';
import { freePort } from '../helpers/net.js';

/** A missing tool skips a test on a workstation, but fails it in CI, naming the package. */
export function requireTool(bins: string[], pkg: string): string | undefined {
  const missing = bins.filter((b) => !existsSync(b));
  if (!missing.length) return undefined;
  const msg = `${missing.join(', ')} not found: install the Debian package ${pkg} (.ci/apt-fleet.txt)`;
  if (process.env.CI === 'true') throw new Error(msg);
  return msg;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

export function postgresMissing(): string | undefined {
  return requireTool([`${PG_BIN}/initdb`, `${PG_BIN}/postgres`], 'postgresql');
}

export interface Postgres {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * root may not run postgres: the server runs as the postgres user. setpriv execs the
 * program itself (no process in between), so a signal to the child reaches postgres.
 */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', '--', cmd, ...args]] : [cmd, args];
}

/** initdb into a temp dir and start a server on 127.0.0.1 on a free port. */
export async function startPostgres(): Promise<Postgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xs-fleet-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    await chown(dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
  }
  const [ic, ia] = asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const init = spawnSync(ic, ia, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [pc, pa] = asPostgres(`${PG_BIN}/postgres`, ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'max_connections=60']);
  const child: ChildProcess = spawn(pc, pa, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (c) => (log += c));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ connect }) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
    });
    if (ok && /ready to accept connections/.test(log)) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`postgres did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await done;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function officeKey(dir: string): Promise<SigningKey> {
  const k = await generateKeys(path.join(dir, 'office'));
  return loadSigningKey(k.privateFile);
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** A simulated school server: its own Ed25519 key, a seal recipient, its MACs. */
export class SimServer {
  readonly privateKey;
  readonly publicKey: string;
  readonly sealKey: string;
  readonly machineId = randomBytes(16).toString('hex');
  seq = 0;
  constructor(
    readonly site: string,
    readonly host: string,
    readonly macs: string[],
  ) {
    const kp = generateKeyPairSync('ed25519');
    this.privateKey = kp.privateKey;
    this.publicKey = publicKeyToBase64(kp.publicKey);
    this.sealKey = 'age1' + Array.from(randomBytes(58), (b) => BECH32[b % 32]).join('');
  }

  enrol(token?: string, created = new Date()): Envelope<EnrolRequest> {
    const req: EnrolRequest = {
      _type: 'xs-enrol',
      spec: FLEET_SPEC,
      site: this.site,
      host: this.host,
      macs: [...this.macs].sort(),
      machineId: this.machineId,
      release: '2026.11',
      version: null,
      agentVersion: '0.1.0',
      signingKey: this.publicKey,
      sealKey: this.sealKey,
      ...(token !== undefined ? { token } : {}),
      created: created.toISOString(),
    };
    return signDoc(req, [{ publicKey: this.publicKey, privateKey: this.privateKey }]);
  }

  report(over: Partial<FleetReport> = {}, signer?: SimServer): Envelope<FleetReport> {
    const doc: FleetReport = {
      _type: 'xs-report',
      host: this.host,
      site: this.site,
      publicKey: (signer ?? this).publicKey,
      at: new Date().toISOString(),
      source: 'http://updates.example/xs/',
      result: 'applied',
      version: 3,
      release: '2026.11',
      warnings: [],
      notes: [],
      seq: ++this.seq,
      agentVersion: '0.1.0',
      ...over,
    };
    const s = signer ?? this;
    return signDoc(doc, [{ publicKey: s.publicKey, privateKey: s.privateKey }]);
  }
}

export function mac(i: number, nic = 0): string {
  const b = [0x52, 0x54, 0x00, nic, (i >> 8) & 0xff, i & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface RunningServe {
  url: string;
  child: ChildProcess;
  /** Everything the service printed so far (stdout and stderr). */
  output(): string;
  /** SIGINT, and the exit code. */
  stop(): Promise<number | null>;
}

/** `xsbuild fleet serve` as a child process, as a user runs it. */
export async function startServe(cli: string, args: string[], env: Record<string, string> = {}): Promise<RunningServe> {
  const child = spawn(process.execPath, [cli, 'fleet', 'serve', ...args], { env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fleet serve did not start within 120 s:\n${out}`)), 120_000);
    const look = () => {
      const m = /fleet service at (http:\/\/\S+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stderr?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fleet serve exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** POST JSON; returns the status and the body text (kept by the caller to check for secrets). */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: any }> {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json };
}

/** The private half of a simulated server's key, as text that must never appear anywhere. */
export function privateText(s: SimServer): string {
  return (s.privateKey.export({ format: 'jwk' }) as { d: string }).d;
}
