// Builds out/agent/xs-agent: the agent as one executable, with Node's single executable
// applications (SEA). Everything is offline: esbuild bundles the agent into one CommonJS
// file, `node --experimental-sea-config` turns it into a blob, and postject injects the blob
// into a copy of the running node binary.
//
// Reproducible: the inputs are the sources, the local node binary and the git commit;
// no time stamps, temp paths or code cache (V8's is not deterministic) go into the output.
//
// usage: node dist/agent/build.js [--out FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BuildResult {
  path: string;
  size: number;
  sha256: string;
  version: string;
  commit: string;
  /** False when binutils' strip is missing: the binary works, it is just larger. */
  stripped: boolean;
  ms: number;
}

/** The repository root: dist/agent/build.js -> ../.. */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function gitCommit(root: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function buildAgent(opts: { root?: string; out?: string; commit?: string } = {}): Promise<BuildResult> {
  const t0 = Date.now();
  const root = opts.root ?? repoRoot();
  const out = path.resolve(opts.out ?? path.join(root, 'out', 'agent', 'xs-agent'));
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = opts.commit ?? gitCommit(root);
  const work = await fsp.mkdtemp(path.join(tmpdir(), 'xs-agent-build-'));
  const tmpOut = `${out}.${process.pid}.tmp`;
  try {
    const bundle = path.join(work, 'xs-agent.cjs');
    await esbuild.build({
      entryPoints: [path.join(root, 'agent', 'main.ts')],
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: bundle,
      legalComments: 'none',
      sourcemap: false,
      logLevel: 'warning',
      define: {
        __XS_AGENT_VERSION__: JSON.stringify(version),
        __XS_AGENT_COMMIT__: JSON.stringify(commit),
      },
    });

    const blob = path.join(work, 'xs-agent.blob');
    const seaConfig = path.join(work, 'sea-config.json');
    await fsp.writeFile(
      seaConfig,
      // Relative paths: the blob records the main script's path, and a temp dir name in it
      // would make every build differ.
      JSON.stringify({ main: path.basename(bundle), output: path.basename(blob), disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }),
    );
    const sea = spawnSync(process.execPath, ['--experimental-sea-config', seaConfig], { cwd: work, encoding: 'utf8' });
    if (sea.status !== 0) throw new Error(`node --experimental-sea-config failed (exit ${sea.status}): ${sea.stderr.trim()}`);

    await fsp.mkdir(path.dirname(out), { recursive: true });
    await fsp.copyFile(process.execPath, tmpOut);
    await fsp.chmod(tmpOut, 0o755);
    // Distribution node binaries carry symbols and debug info the target never uses.
    const strip = spawnSync('strip', ['--strip-all', tmpOut], { encoding: 'utf8' });
    const stripped = strip.status === 0;
    if (!stripped && !(strip.error && (strip.error as NodeJS.ErrnoException).code === 'ENOENT')) {
      throw new Error(`strip --strip-all failed (exit ${strip.status}): ${strip.stderr.trim()}`);
    }
    // postject's CLI in a child: its ELF library prints harmless warnings about note
    // sections on every run; show its output only when it fails.
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    const inj = spawnSync(process.execPath, [postject, tmpOut, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE], { encoding: 'utf8' });
    if (inj.status !== 0) throw new Error(`postject failed (exit ${inj.status}): ${(inj.stderr + inj.stdout).trim()}`);
    await fsp.rename(tmpOut, out);
    const data = await fsp.readFile(out);
    return { path: out, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), version, commit, stripped, ms: Date.now() - t0 };
  } finally {
    await fsp.rm(tmpOut, { force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
}

async function cli(argv: string[]): Promise<number> {
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = argv[++i];
    else {
      process.stderr.write(`usage: node dist/agent/build.js [--out FILE]\n`);
      return 64;
    }
  }
  const r = await buildAgent({ out });
  process.stdout.write(`xs-agent ${r.version} (commit ${r.commit}): ${path.relative(process.cwd(), r.path) || r.path}, ${(r.size / 1048576).toFixed(1)} MiB, sha256 ${r.sha256}, ${(r.ms / 1000).toFixed(1)} s\n`);
  if (!r.stripped) process.stdout.write('note: strip not found (apt-get install binutils): the binary keeps node\'s symbols\n');
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`agent build: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
