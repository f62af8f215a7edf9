// Fixtures for the update tests: a scratch project with a site whose library is
// generated, a signing key, a loopback HTTP server over a repository directory that logs
// every request (and can be slow or drop connections), and a way to run the agent's
// built JS as the timer would.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';
import { scratchProject, removeProject } from '../helpers/project.js';
import { generateKeys } from '../../builder/updates/keys.js';

export const AGENT = path.join(PROJECT_DIR, 'dist', 'agent', 'main.js');

export interface Fixture {
  dir: string;
  repo: string;
  key: string;
  pub: string;
  lib: string;
  cleanup(): Promise<void>;
}

/** Deterministic pseudo-random bytes (so seeds and chunk counts do not vary per run). */
export function prng(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < n; off += 32) {
    block.copy(out, off, 0, Math.min(32, n - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** A site for update tests; `o` changes what a VM test needs (name, library place, URL). */
export function siteYaml(pub: string, layers: string[], o: { site?: string; domain?: string; libraryDest?: string; url?: string } = {}): string {
  return `site: ${o.site ?? 'upd'}
release: "2026.1"
base: demo
domain: ${o.domain ?? 'upd.example.org'}
layers: [${layers.join(', ')}]
kickstart:
  timezone: UTC
  lang: en_US.UTF-8
  keyboard: us
  rootPasswordHash: "$6$xsrioja1$tM4NNfBAt4VGnZOkeRqn.cgVTAyAzu.twdNAh4au251lvnpjmrwaoC.0Ve1vPY7JDoAzKYccgUiXCKsJgDt0H."
  partitioning: auto
library:
  - source: lib
    dest: ${o.libraryDest ?? '/library/common'}
updates:
  url: ${o.url ?? 'http://127.0.0.1:1/xs/'}
  publicKey: "${pub}"
`;
}

export async function makeFixture(opts: { libBytes?: number } = {}): Promise<Fixture> {
  const dir = await scratchProject('xs-updates-');
  const k = await generateKeys(path.join(dir, 'keys'));
  const lib = path.join(dir, 'lib');
  mkdirSync(path.join(lib, 'videos'), { recursive: true });
  writeFileSync(path.join(lib, 'index.html'), '<h1>Biblioteca</h1>\n');
  writeFileSync(path.join(lib, 'videos', 'big.bin'), prng('big', opts.libBytes ?? 3 * 1024 * 1024));
  writeFileSync(path.join(lib, 'videos', 'other.bin'), prng('other', 700 * 1024));
  writeFileSync(path.join(dir, 'sites', 'upd.yaml'), siteYaml(k.publicKey, ['xs-core', 'web-filter']));
  return { dir, repo: path.join(dir, 'repo'), key: k.privateFile, pub: k.publicKey, lib, cleanup: () => removeProject(dir) };
}

/** A new layer "extra" with a file and an update script. */
export function addExtraLayer(f: Fixture, script = 'echo extra > /var/tmp/extra-ran\n'): void {
  const d = path.join(f.dir, 'layers', 'extra');
  mkdirSync(path.join(d, 'files'), { recursive: true });
  mkdirSync(path.join(d, 'kickstart'), { recursive: true });
  writeFileSync(path.join(d, 'files', 'extra.conf'), 'extra=1\n');
  writeFileSync(path.join(d, 'kickstart', 'post.ks.hbs'), script);
  writeFileSync(path.join(d, 'layer.yaml'), 'name: extra\nversion: 1.0.0\nrequires: [xs-core]\nkickstart:\n  post: kickstart/post.ks.hbs\nfiles:\n  - src: files/extra.conf\n    dest: /etc/extra/extra.conf\n');
  writeFileSync(path.join(f.dir, 'sites', 'upd.yaml'), siteYaml(f.pub, ['xs-core', 'web-filter', 'extra']));
}

/** Overwrite `n` bytes at `offset` of a file with other bytes. */
export function patchFile(file: string, offset: number, n: number, seed: string): void {
  const b = readFileSync(file);
  prng(seed, n).copy(b, offset);
  writeFileSync(file, b);
}

export interface RequestLog {
  path: string;
  status: number;
  bytes: number;
}

export interface RepoServer {
  url: string;
  log: RequestLog[];
  chunkRequests(): RequestLog[];
  close(): Promise<void>;
  /** Serve another directory from now on. */
  dir: string;
}

export async function serveRepo(dir: string, opts: { delayMs?: number; dropEvery?: number; truncateEvery?: number } = {}): Promise<RepoServer> {
  const log: RequestLog[] = [];
  let n = 0;
  const state = { dir };
  const server: Server = createServer(async (req, res) => {
    n++;
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/xs\//, '');
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (opts.dropEvery && n % opts.dropEvery === 0) {
      log.push({ path: rel, status: 0, bytes: 0 });
      req.socket.destroy();
      return;
    }
    const file = path.join(state.dir, rel);
    if (rel.includes('..')) {
      res.writeHead(400).end();
      return;
    }
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      log.push({ path: rel, status: 404, bytes: 0 });
      res.writeHead(404).end();
      return;
    }
    if (opts.truncateEvery && n % opts.truncateEvery === 0 && data.length > 10) {
      // Promise the full length, send half, hang up: a link that dies mid-transfer.
      log.push({ path: rel, status: 206, bytes: data.length >> 1 });
      res.writeHead(200, { 'content-length': data.length });
      res.write(data.subarray(0, data.length >> 1), () => req.socket.destroy());
      return;
    }
    log.push({ path: rel, status: 200, bytes: data.length });
    res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
    res.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/xs/`,
    log,
    chunkRequests: () => log.filter((l) => l.path.startsWith('chunks/') && l.status === 200),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    get dir() { return state.dir; },
    set dir(d: string) { state.dir = d; },
  };
}

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runAgent(args: string[], env: Record<string, string> = {}): Promise<AgentRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGENT, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** path -> sha256 (and mode) of every file under dir: the observable state of a root. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else out[r] = `${createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex').slice(0, 16)} ${(st.mode & 0o777).toString(8)}`;
    }
  };
  walk('');
  return out;
}

export function pullArgs(from: string, root: string, state: string, pub: string, extra: string[] = []): string[] {
  return ['pull', '--from', from, '--root', root, '--state', state, '--trust', pub, ...extra];
}

export function statusOf(state: string): { result: string; version: number | null; error?: string; warnings: string[]; notes: string[]; chunks?: { fetched: number; fetchedBytes: number; seeded: number; deltas: number; deltaBytes: number; deltaChunkBytes: number } } {
  return JSON.parse(readFileSync(path.join(state, 'status.json'), 'utf8'));
}

export function randomHex(n: number): string {
  return randomBytes(n).toString('hex');
}

export function fileSize(p: string): number {
  return statSync(p).size;
}
