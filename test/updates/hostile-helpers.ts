// Fixtures for the hostile-network tests and bench/hostile.ts: a small published release
// (so a throttled pull is short), fresh root and state directories, and the agent run
// as a child whose peak memory and wall time are measured.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scratchProject, removeProject } from '../helpers/project.js';
import { generateKeys } from '../../builder/updates/keys.js';
import { publish } from '../../builder/updates/publish.js';
import { peakRssMiB } from '../helpers/hostile.js';
import { AGENT, prng, siteYaml } from './helpers.js';

export interface SmallRelease {
  dir: string;
  repo: string;
  pub: string;
  key: string;
  site: string;
  lib: string;
  cleanup(): Promise<void>;
}

/** A site with one layer and a library of one `libBytes` file, published once. */
export async function smallRelease(libBytes: number, seed = 'small'): Promise<SmallRelease> {
  const dir = await scratchProject('xs-hostile-');
  const k = await generateKeys(path.join(dir, 'keys'));
  const lib = path.join(dir, 'lib');
  mkdirSync(lib, { recursive: true });
  writeFileSync(path.join(lib, 'index.html'), '<h1>Biblioteca</h1>\n');
  writeFileSync(path.join(lib, 'data.bin'), prng(seed, libBytes));
  const site = path.join(dir, 'sites', 'upd.yaml');
  writeFileSync(site, siteYaml(k.publicKey, ['xs-core']));
  const repo = path.join(dir, 'repo');
  await publish({ site, repo, keyFile: k.privateFile });
  return { dir, repo, pub: k.publicKey, key: k.privateFile, site, lib, cleanup: () => removeProject(dir) };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface WatchedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory, MiB (VmHWM polled every 50 ms). */
  peakMiB: number;
  ms: number;
}

/** The agent as a child; killed after `limitMs` (a test must end even if the agent does not). */
export function runWatched(args: string[], limitMs: number): Promise<WatchedRun> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [AGENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const poll = setInterval(() => (peak = Math.max(peak, peakRssMiB(child.pid!))), 50);
    const kill = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(kill);
      resolve({ code, stdout, stderr, peakMiB: peak, ms: Date.now() - t0 });
    });
  });
}
