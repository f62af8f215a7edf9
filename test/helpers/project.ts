// Scratch copies of the project's data (sites, layers, overlays) for tests that
// break or change inputs, and a way to run the CLI as a user would.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';

export const CLI = path.join(PROJECT_DIR, 'dist', 'builder', 'cli.js');

export async function scratchProject(prefix = 'xsbuild-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  for (const d of ['sites', 'layers', 'overlays']) await cp(path.join(PROJECT_DIR, d), path.join(dir, d), { recursive: true });
  return dir;
}

export async function removeProject(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  umask?: string;
  /** Take the build time from git, as a user's build does (no SOURCE_DATE_EPOCH). */
  gitEpoch?: boolean;
  /** Run the CLI with the `node` found first on PATH after putting this directory in front. */
  nodeDir?: string;
  /** Called with the child once started (to signal it). */
  started?: (child: ReturnType<typeof spawn>) => void;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, CI: 'true', SOURCE_DATE_EPOCH: '1790000000', ...opts.env };
  if (opts.gitEpoch) delete env.SOURCE_DATE_EPOCH;
  if (opts.nodeDir) env.PATH = `${opts.nodeDir}:${env.PATH ?? ''}`;
  const node = opts.nodeDir ? 'node' : process.execPath;
  const cmd = opts.umask ? 'sh' : node;
  const argv = opts.umask ? ['-c', `umask ${opts.umask} && exec "$0" "$@"`, node, CLI, ...args] : [CLI, ...args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    opts.started?.(child);
  });
}
