// Debian packages: where the demo base's kernel and busybox come from, and how tool
// versions are recorded in the manifest.
import path from 'node:path';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { run } from './exec.js';
import { BuildError } from '../errors.js';
import { sha256 } from '../../lib/hash.js';

/**
 * What apt knows changes only when its package lists, its configuration or the dpkg
 * database change: the identity of those is the key under which apt's answers are
 * remembered (`apt-cache` takes about a second per query, on every build otherwise).
 */
const APT_STATE = ['/var/lib/apt/lists', '/var/cache/apt/pkgcache.bin', '/var/lib/dpkg/status', '/etc/apt', '/etc/apt/sources.list', '/etc/apt/sources.list.d', '/etc/apt/preferences.d'];

async function aptStateKey(): Promise<string> {
  const ids = await Promise.all(APT_STATE.map((p) => stat(p, { bigint: true }).then((s) => [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':'), () => 'none')));
  return sha256(ids.join('\n'));
}

/** `answer()` once per apt state, remembered in cacheDir/apt-answers.json. */
export async function aptMemo<T>(cacheDir: string, query: string, answer: () => Promise<T>): Promise<T> {
  const file = path.join(cacheDir, 'apt-answers.json');
  const key = await aptStateKey();
  const stored = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { key: string; answers: Record<string, unknown> }, () => undefined);
  const answers = stored?.key === key ? stored.answers : {};
  if (query in answers) return answers[query] as T;
  const value = await answer();
  answers[query] = value;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ key, answers }));
  await rename(tmp, file);
  return value;
}

/** The concrete package a meta-package (linux-image-amd64) depends on. */
export async function resolveMetaPackage(meta: string, prefix: string): Promise<string> {
  const { stdout } = await run('apt-cache', ['depends', meta]);
  const m = stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`Depends: ${prefix}`));
  if (!m) throw new BuildError(`cannot resolve ${meta} to a ${prefix}* package`, 'run apt-get update and try again');
  return m.slice('Depends: '.length).trim();
}

/** The versions apt would download, in one query. */
export async function candidateVersions(pkgs: string[]): Promise<Record<string, string>> {
  const { stdout } = await run('apt-cache', ['policy', ...pkgs]);
  const out: Record<string, string> = {};
  for (const block of stdout.split(/^(?=\S)/m)) {
    const name = /^(\S+):/.exec(block)?.[1];
    const cand = /Candidate:\s*(\S+)/.exec(block)?.[1];
    if (name && cand && cand !== '(none)') out[name] = cand;
  }
  for (const p of pkgs) {
    if (!out[p]) throw new BuildError(`Debian package ${p} is not available`, 'run apt-get update (make deps does) and check your apt sources');
  }
  return out;
}

/** Download a package's .deb into dir (once); returns its path. */
export async function downloadDeb(pkg: string, version: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const want = `${pkg}_${version.replace(/^\d+:/, '')}_`;
  const existing = (await readdir(dir)).find((f) => f.startsWith(want) && f.endsWith('.deb'));
  if (existing) return path.join(dir, existing);
  const tmp = path.join(dir, `.dl-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  await run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: tmp, timeout: 600_000 });
  const got = (await readdir(tmp)).find((f) => f.endsWith('.deb'));
  if (!got) throw new BuildError(`apt-get download ${pkg} produced no .deb`);
  await rename(path.join(tmp, got), path.join(dir, got));
  await rm(tmp, { recursive: true, force: true });
  return path.join(dir, got);
}

export async function extractDeb(deb: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await run('dpkg-deb', ['-x', deb, dest]);
}

/** Installed versions of Debian packages ("not installed" for missing ones), in one query. */
export async function installedVersions(pkgs: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.fromEntries(pkgs.map((p) => [p, 'not installed']));
  // dpkg-query exits 1 when any package is unknown but still lists the others.
  const { stdout } = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status} ${Version}\n', ...pkgs], { allowFailure: true });
  for (const line of stdout.split('\n')) {
    const [name, status, version] = line.trim().split(' ');
    if (name in out && status === 'installed' && version) out[name] = version;
  }
  return out;
}
