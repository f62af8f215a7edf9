// Reading and writing an update repository directory (layout in agent/pull/format.ts).
// Every file is written under a temp name and renamed, so a web server never serves half a
// file; chunks go first and release.json last, so a client that sees a release can fetch
// all of it.
import path from 'node:path';
import { mkdir, readFile, readdir, rename, rm, stat, open } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { checkRelease, checkRoot, parseEnvelope, rootPath, ROOT_FILE, RELEASE_FILE, chunkPath, type ReleaseDoc, type RootDoc } from '../../agent/pull/format.js';
import type { Envelope } from '../../agent/pull/sign.js';
import { TrustError, walkRoots } from '../../agent/pull/trust.js';

export async function writeAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/** Store a chunk unless an intact copy exists. Returns true when it wrote one. */
export async function putChunk(repo: string, id: string, data: Uint8Array): Promise<boolean> {
  const file = path.join(repo, chunkPath(id));
  const st = await stat(file).catch(() => undefined);
  if (st && st.size === data.length) return false;
  await writeAtomic(file, data);
  return true;
}

export interface RepoState {
  roots: Envelope<RootDoc>[];
  releases: Map<number, Envelope<ReleaseDoc>>;
  latest?: Envelope<ReleaseDoc>;
}

async function readEnv<T>(file: string, check: (v: unknown, doc: string) => T): Promise<Envelope<T>> {
  const env = parseEnvelope(await readFile(file, 'utf8'), file);
  return { signed: check(env.signed, file), signatures: env.signatures };
}

/** Read every root and release in the repository, checking each one's form. */
export async function readRepo(repo: string): Promise<RepoState> {
  const roots: Envelope<RootDoc>[] = [];
  for (let n = 1; await exists(path.join(repo, rootPath(n))); n++) roots.push(await readEnv(path.join(repo, rootPath(n)), checkRoot));
  const releases = new Map<number, Envelope<ReleaseDoc>>();
  const names = await readdir(path.join(repo, 'releases')).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^(\d+)\.release\.json$/.exec(n);
    if (m) releases.set(Number(m[1]), await readEnv(path.join(repo, 'releases', n), checkRelease));
  }
  const latestFile = path.join(repo, RELEASE_FILE);
  const latest = (await exists(latestFile)) ? await readEnv(latestFile, checkRelease) : undefined;
  if (roots.length === 0 && (await exists(path.join(repo, ROOT_FILE)))) {
    throw new BuildError(`${repo}: has ${ROOT_FILE} but no roots/1.root.json`, 'this is not a complete xsbuild update repository; restore it from a backup');
  }
  return { roots, releases, latest };
}

/** The newest root, reached from the key the site's images trust (as an agent would). */
export function verifyRootChain(roots: Envelope<RootDoc>[], trustedKey: string, repo: string): RootDoc {
  if (roots.length === 0) throw new BuildError(`${repo}: no roots`, 'publish once to create roots/1.root.json');
  try {
    return walkRoots(roots, trustedKey, (n) => path.join(repo, rootPath(n)));
  } catch (e) {
    if (e instanceof TrustError) throw new BuildError(e.message, e.hint);
    throw e;
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function prettyEnvelope(env: Envelope<unknown>): string {
  return JSON.stringify(env, null, 1) + '\n';
}
