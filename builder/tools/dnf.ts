// dnf: resolve a package set against file:// repositories without installing anything
// (an empty --installroot in a temp dir, no system repos, no config files). The work is
// done by dnf-resolve.py, which uses dnf's own library with the interpreter the dnf
// command runs on, so the answer is structured (NEVRAs, per-request errors) rather than
// the table the dnf command prints for people.
import path from 'node:path';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { run } from './exec.js';
import { PROJECT_DIR } from '../paths.js';
import { BuildError } from '../errors.js';

export interface ResolveRequest {
  repos: { name: string; baseurl: string }[];
  /** Kickstart %packages lines: names, globs, @group, @^environment. */
  specs: string[];
  /** Requests added without being asked for (Anaconda's @core), skipped if absent. */
  implicit?: string[];
  excludes: string[];
  releasever?: string;
}

export interface ResolvedPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  repo: string;
}

export interface ResolveResult {
  ok: boolean;
  /** Request → why it matched nothing ("no match", "no such group"). */
  missing: Record<string, string>;
  /** Request → dnf's problem text when it cannot be installed on its own. */
  broken: Record<string, string>;
  /** dnf's problem text for the whole set, when it failed. */
  error?: string;
  installSet: ResolvedPackage[];
}

const SCRIPT = path.join(PROJECT_DIR, 'builder', 'tools', 'dnf-resolve.py');

/** The Python interpreter the dnf command runs on (its #! line). */
async function dnfPython(): Promise<string> {
  const { stdout } = await run('sh', ['-c', 'command -v dnf']).catch(() => ({ stdout: '' }));
  if (!stdout.trim()) throw new BuildError('dnf is not installed', 'install it with: make deps (Debian package dnf)');
  const first = (await readFile(stdout.trim(), 'utf8')).split('\n')[0];
  const m = /^#!\s*(\S+)/.exec(first);
  return m ? m[1] : '/usr/bin/python3';
}

export async function dnfResolve(req: ResolveRequest, scratch: string): Promise<ResolveResult> {
  const dir = await mkdtemp(path.join(scratch, 'dnf-'));
  try {
    const input = JSON.stringify({ ...req, installroot: path.join(dir, 'root'), cachedir: path.join(dir, 'cache') });
    const { stdout } = await run(await dnfPython(), [SCRIPT], { input, timeout: 600_000 });
    return JSON.parse(stdout) as ResolveResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function dnfVersion(): Promise<string> {
  const { stdout } = await run('dnf', ['--version']);
  return stdout.split('\n')[0].trim();
}
