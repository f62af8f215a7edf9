// Packages of a release, through the target's own package manager (dnf, yum or apt-get),
// from the package repository the release ships when it ships one (staged, verified, in
// the state directory) and otherwise from the repositories the server already has.
// Only packages that are not installed are asked for. Under --root (an offline tree, not
// a running system) nothing is run: the command is recorded so the status says exactly
// what would have run.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { Target } from '../target.js';
import { findOnTarget } from '../target.js';

export type PackageManager = 'dnf' | 'yum' | 'apt-get';

export interface PackageOutcome {
  result: 'ok' | 'not-run' | 'failed';
  installed: string[];
  command?: string[];
  note?: string;
}

export async function detectPackageManager(t: Target): Promise<{ pm: PackageManager; path: string } | null> {
  for (const pm of ['dnf', 'yum', 'apt-get'] as const) {
    const p = await findOnTarget(t, [pm]);
    if (p) return { pm, path: p };
  }
  return null;
}

/** apt options that make the release's repository (a flat repo: Packages at its top) the only source. */
function aptSource(repoDir: string): string[] {
  return ['-o', `Dir::Etc::SourceList=${repoDir}.list`, '-o', 'Dir::Etc::SourceParts=-'];
}

/** apt must read a new source's index before it can install from it. */
export function aptUpdateCommand(repoDir: string): string[] {
  // List-Cleanup=0: the server's own package lists stay as they are.
  return ['apt-get', '-q', ...aptSource(repoDir), '-o', 'APT::Get::List-Cleanup=0', 'update'];
}

export function installCommand(pm: PackageManager, pkgs: string[], repoDir: string | undefined, version: number): string[] {
  if (pm === 'apt-get') {
    return ['apt-get', '-y', '-q', ...(repoDir ? aptSource(repoDir) : []), 'install', '--no-install-recommends', ...pkgs];
  }
  // The repository's files are covered by the release signature (each one's sha256), so
  // the package manager need not check a separate repository key.
  const repo = repoDir ? [`--repofrompath=xs-update-${version},file://${repoDir}`, `--setopt=xs-update-${version}.gpgcheck=0`] : [];
  return [pm, '-y', '-q', ...repo, 'install', ...pkgs];
}

export function run(cmd: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve({ code: 127, output: e.message }));
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), output }));
  });
}

async function missing(pm: PackageManager, pkgs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of pkgs) {
    // Groups (@core) cannot be queried one by one; the installer put them there.
    if (p.startsWith('@')) continue;
    const q = pm === 'apt-get' ? await run(['dpkg-query', '-W', '-f=${Status}', p], 30_000) : await run(['rpm', '-q', '--whatprovides', p], 30_000);
    if (q.code !== 0 || (pm === 'apt-get' && !q.output.includes('install ok installed'))) out.push(p);
  }
  return out;
}

export async function installPackages(t: Target, pkgs: string[], repoDir: string | undefined, version: number, timeoutMs: number): Promise<PackageOutcome> {
  if (pkgs.length === 0) return { result: 'ok', installed: [] };
  const found = await detectPackageManager(t);
  if (!found) {
    return { result: t.mode === 'offline' ? 'not-run' : 'failed', installed: [], note: `no dnf, yum or apt-get on the target; packages not installed: ${pkgs.join(' ')}` };
  }
  if (t.mode === 'offline') {
    const cmd = installCommand(found.pm, pkgs.filter((p) => !p.startsWith('@')), repoDir, version);
    return { result: 'not-run', installed: [], command: cmd, note: `offline root: not run (would run: ${cmd.join(' ')}, for the packages not yet installed)` };
  }
  const need = await missing(found.pm, pkgs);
  if (need.length === 0) return { result: 'ok', installed: [] };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (found.pm === 'apt-get' && repoDir) {
    // The repository's files are covered by the release signature (each one's sha256),
    // so apt need not check a separate archive key.
    await writeFile(`${repoDir}.list`, `deb [trusted=yes] file:${repoDir} ./\n`);
    const u = await run(aptUpdateCommand(repoDir), timeoutMs, env);
    if (u.code !== 0) return { result: 'failed', installed: [], command: aptUpdateCommand(repoDir), note: `apt-get update of the release's repository exited ${u.code}: ${u.output.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const cmd = installCommand(found.pm, need, repoDir, version);
  const r = await run(cmd, timeoutMs, env);
  if (r.code !== 0) return { result: 'failed', installed: [], command: cmd, note: `${cmd.join(' ')} exited ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' | ')}` };
  return { result: 'ok', installed: need, command: cmd };
}
