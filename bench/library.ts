// Library-scale publish and pull against casync, in the same run on the same disk.
// Generates a library of random bytes (many 1 MiB files and two large ones), then times:
// `casync make` / `casync extract` of it, `xsbuild publish` cold, unchanged and after a
// change of 1% of the files scattered through the library, and a fresh `xs-agent pull`
// from the repository directory with the agent's peak RSS. Each figure is printed beside
// casync's and the target (issue 13).
//
// usage: node dist/bench/library.js [--gib 2] [--keep]
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { generateKeys } from '../builder/updates/keys.js';
import { scratchProject, removeProject, CLI } from '../test/helpers/project.js';
import { siteYaml, AGENT, snapshot } from '../test/updates/helpers.js';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false } } });
const GIB = Number(values.gib);
if (!(GIB > 0)) throw new Error('--gib: a positive number of GiB');
const MiB = 1 << 20;

interface Run {
  seconds: number;
  /** Peak resident set of the child (VmHWM), bytes. */
  peakRss: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and samples its VmHWM (the kernel's own peak, so sampling misses nothing but the last moments). */
function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 20);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('exit', () => sample());
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${stdout}${stderr}`));
      else resolve({ seconds, peakRss, stdout, stderr });
    });
  });
}

function writeRandom(file: string, size: number): void {
  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(Math.min(size, 8 * MiB));
  for (let off = 0; off < size; off += buf.length) {
    const n = Math.min(buf.length, size - off);
    randomFillSync(buf, 0, n);
    writeSync(fd, buf, 0, n);
  }
  closeSync(fd);
}

/** Overwrite `n` bytes at `offset` with new random bytes. */
function patch(file: string, offset: number, n: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomFillSync(Buffer.allocUnsafe(n)), 0, n, offset);
  closeSync(fd);
}

const s = (x: number) => `${x.toFixed(2)} s`;
const mib = (x: number) => `${(x / MiB).toFixed(0)} MiB`;
const rate = (bytes: number, secs: number) => `${(bytes / MiB / secs).toFixed(0)} MiB/s`;

async function main(): Promise<void> {
  if (spawnSync('casync', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('casync: not installed (apt-get install casync; it is in .ci/apt-updates.txt)');
  const dir = await scratchProject('xs-bench-library-');
  const work = mkdtempSync(path.join(tmpdir(), 'xs-bench-library-work-'));
  try {
    const k = await generateKeys(path.join(dir, 'keys'));
    const lib = path.join(dir, 'lib');
    // Three quarters in 1 MiB files (100 per directory), a quarter in two large files.
    const total = Math.round(GIB * 1024) * MiB;
    const large = Math.floor(total / 8 / MiB) * MiB;
    const small = Math.floor((total - 2 * large) / MiB);
    const smallFiles: string[] = [];
    let t = Date.now();
    for (let i = 0; i < small; i++) {
      const d = path.join(lib, 'docs', `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
      if (i % 100 === 0) mkdirSync(d, { recursive: true });
      const f = path.join(d, `f${String(i).padStart(5, '0')}.bin`);
      writeRandom(f, MiB);
      smallFiles.push(f);
    }
    mkdirSync(path.join(lib, 'video'), { recursive: true });
    for (const n of ['a', 'b']) writeRandom(path.join(lib, 'video', `${n}.bin`), large);
    console.log(`library: ${small} files of 1 MiB and 2 of ${mib(large)}, ${mib(total)}, generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    writeFileSync(path.join(dir, 'sites', 'lib.yaml'), siteYaml(k.publicKey, ['xs-core', 'xs-agent'], { site: 'lib' }));
    const site = path.join(dir, 'sites', 'lib.yaml');
    const repo = path.join(work, 'repo');
    const publishArgs = [CLI, 'publish', site, '--repo', repo, '--key', k.privateFile, '--json'];

    // casync: default settings (64 KiB average chunks, zstd, sha512-256), its own store.
    const store = path.join(work, 'casync.castr');
    const index = path.join(work, 'lib.caidx');
    const cmake = await timed('casync', ['make', `--store=${store}`, index, lib]);
    const cextract = await timed('casync', ['extract', `--store=${store}`, index, path.join(work, 'casync-out')]);
    rmSync(path.join(work, 'casync-out'), { recursive: true, force: true });

    const cold = await timed(process.execPath, publishArgs);
    const unchanged = await timed(process.execPath, publishArgs);
    if (JSON.parse(unchanged.stdout).changed !== false) throw new Error(`unchanged re-publish made a release: ${unchanged.stdout}`);
    // 1% of the files, spread evenly through the library, each overwritten in 4 places.
    let changedBytes = 0;
    const every = 100;
    for (let i = every >> 1; i < smallFiles.length; i += every) {
      for (let e = 0; e < 4; e++) patch(smallFiles[i]!, Math.floor(((e + 0.3) / 4) * (MiB - 16384)), 16384);
      changedBytes += 4 * 16384;
    }
    const changedFiles = Math.ceil((smallFiles.length - (every >> 1)) / every);
    const edited = await timed(process.execPath, publishArgs);

    const root = path.join(work, 'root');
    const pull = await timed(process.execPath, [AGENT, 'pull', '--from', repo, '--root', root, '--state', path.join(work, 'state'), '--trust', k.publicKey, '--no-report']);
    const libDest = path.join(root, 'library', 'common');
    const a = snapshot(lib);
    const b = snapshot(libDest);
    if (JSON.stringify(Object.keys(a)) !== JSON.stringify(Object.keys(b)) || Object.keys(a).some((p) => a[p]!.split(' ')[0] !== b[p]!.split(' ')[0])) throw new Error('the pulled library differs from the source');

    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}x`;
    const ok = (b: boolean) => (b ? 'met' : 'NOT met');
    const lines: [string, string, string, string][] = [
      ['publish cold', `${s(cold.seconds)} (${rate(total, cold.seconds)})`, `casync make ${s(cmake.seconds)} (${rate(total, cmake.seconds)})`, `>= casync throughput: ${ok(cold.seconds <= cmake.seconds)}`],
      ['publish unchanged', s(unchanged.seconds), '', `<= 1 s: ${ok(unchanged.seconds <= 1)}`],
      [`publish after ${changedFiles} files changed (${mib(changedBytes)})`, `${s(edited.seconds)} (${((100 * edited.seconds) / cold.seconds).toFixed(1)}% of cold)`, '', `<= 10% of cold: ${ok(edited.seconds <= cold.seconds / 10)}`],
      ['pull fresh (from the repository directory)', `${s(pull.seconds)} (${ratio(pull.seconds, cextract.seconds)})`, `casync extract ${s(cextract.seconds)}`, `<= 1.2x casync: ${ok(pull.seconds <= 1.2 * cextract.seconds)}`],
      ['pull peak RSS', mib(pull.peakRss), `casync extract ${mib(cextract.peakRss)}`, `<= 128 MiB: ${ok(pull.peakRss <= 128 * MiB)}`],
      ['publish peak RSS (cold)', mib(cold.peakRss), `casync make ${mib(cmake.peakRss)}`, ''],
    ];
    console.log(`load average before the figures: ${load} (${availableParallelism()} cores)`);
    const w = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i]!.length)));
    for (const l of lines) console.log(`${l[0].padEnd(w[0]!)}  ${l[1].padEnd(w[1]!)}  ${l[2].padEnd(w[2]!)}  ${l[3]}`);
  } finally {
    if (values.keep) console.log(`kept: ${dir} ${work}`);
    else {
      rmSync(work, { recursive: true, force: true });
      await removeProject(dir);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
