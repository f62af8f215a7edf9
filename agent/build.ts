// Builds out/agent/xs-agent: the agent as one executable, with Node's single executable
// applications (SEA). esbuild bundles the agent into one CommonJS file, and the pinned
// runtime (agent/runtime.ts: a supported Node LTS from the npm registry, not the Node
// running this build) writes the executable with `node --build-sea`, on a stripped copy
// of itself.
//
// Reproducible: the inputs are the sources, the pinned runtime and the git commit; no time
// stamps, temp paths or code cache (V8's is not deterministic) go into the output.
//
// usage: node dist/agent/build.js [--out FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { pinnedRuntime, readLock, type RuntimeLock } from './runtime.js';

export interface BuildResult {
  path: string;
  size: number;
  sha256: string;
  version: string;
  commit: string;
  /** The Node runtime inside, from agent/runtime.lock.json. */
  runtime: { package: string; version: string; sha256: string };
  /** Taken from .cache/agent/ (same sources, same runtime) instead of built again. */
  cached: boolean;
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

/**
 * Executables already built, by the sha256 of everything that shapes their bytes (the
 * bundle, the runtime, the SEA config, this file's own build steps). A build of the same
 * sources then costs the bundle step and a copy, not `--build-sea` (seconds, and every
 * image build, publish and many tests make one). An entry is re-hashed before use; one
 * that does not match its name is rebuilt, never used.
 */
const CACHE_FORMAT = 'xs-agent-sea-1';

async function cachedExecutable(dir: string, key: string): Promise<{ file: string; sha256: string } | undefined> {
  const file = path.join(dir, key, 'xs-agent');
  const want = (await fsp.readFile(path.join(dir, key, 'sha256'), 'utf8').catch(() => '')).trim();
  if (!want) return undefined;
  const got = await fileSha(file);
  return got === want ? { file, sha256: want } : undefined;
}

async function keepExecutable(dir: string, key: string, built: string, sha256: string): Promise<void> {
  const entry = path.join(dir, key);
  const tmp = `${entry}.${process.pid}.tmp`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  await fsp.copyFile(built, path.join(tmp, 'xs-agent'));
  await fsp.writeFile(path.join(tmp, 'sha256'), `${sha256}\n`);
  await fsp.rm(entry, { recursive: true, force: true });
  await fsp.rename(tmp, entry).catch(() => fsp.rm(tmp, { recursive: true, force: true }));
}

/**
 * The bundle's inputs as esbuild last reported them (metafile), with each file's sha256,
 * and the cache key that bundle had. When every input still hashes the same (reading
 * ~100 small files takes milliseconds; bundling takes about a second), the key is known
 * without bundling again.
 */
interface LastBundle {
  format: string;
  defines: Record<string, string>;
  runtime: string;
  inputs: Record<string, string>;
  key: string;
}

/** sha256 of a file, streamed (the executable is ~110 MiB), or '' when it cannot be read. */
async function fileSha(f: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch {
    return '';
  }
  return h.digest('hex');
}

async function knownKey(file: string, root: string, defines: Record<string, string>, runtime: string): Promise<string | undefined> {
  const last = await fsp.readFile(file, 'utf8').then((t) => JSON.parse(t) as LastBundle, () => undefined);
  if (!last || last.format !== CACHE_FORMAT || last.runtime !== runtime || JSON.stringify(last.defines) !== JSON.stringify(defines)) return undefined;
  for (const [rel, sha] of Object.entries(last.inputs)) if ((await fileSha(path.join(root, rel))) !== sha) return undefined;
  return last.key;
}

/** `cacheDir`: where built executables are kept (default .cache/agent/ of `root`); `cache: false` uses none. */
export async function buildAgent(opts: { root?: string; out?: string; commit?: string; cache?: boolean; inPlace?: boolean; cacheDir?: string } = {}): Promise<BuildResult> {
  const t0 = Date.now();
  const root = opts.root ?? repoRoot();
  // The lock names the runtime; the binary itself is only needed to build (a cache miss).
  const runtime = readLock(root);
  const major = Number(/^(\d+)\./.exec(runtime.version)?.[1] ?? 0);
  const out = path.resolve(opts.out ?? path.join(root, 'out', 'agent', 'xs-agent'));
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = opts.commit ?? gitCommit(root);
  const work = await fsp.mkdtemp(path.join(tmpdir(), 'xs-agent-build-'));
  const tmpOut = `${out}.${process.pid}.tmp`;
  try {
    const bundle = path.join(work, 'xs-agent.cjs');
    const define = { __XS_AGENT_VERSION__: JSON.stringify(version), __XS_AGENT_COMMIT__: JSON.stringify(commit) };
    const seaOptions = { disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false };
    const cacheDir = opts.cacheDir ?? path.join(root, '.cache', 'agent');
    const lastFile = path.join(cacheDir, 'last-bundle.json');
    // esbuild's version shapes the bundle too.
    const shape = { ...define, esbuild: esbuild.version, seaOptions: JSON.stringify(seaOptions) };
    const useCache = opts.cache !== false;
    let key = useCache ? await knownKey(lastFile, root, shape, runtime.sha256) : undefined;
    let hit = key ? await cachedExecutable(cacheDir, key) : undefined;
    let bundled = false;
    if (!hit) {
      const r = await esbuild.build({
        entryPoints: [path.join(root, 'agent', 'main.ts')],
        absWorkingDir: root,
        bundle: true,
        platform: 'node',
        target: `node${major}`,
        format: 'cjs',
        outfile: bundle,
        legalComments: 'none',
        sourcemap: false,
        logLevel: 'warning',
        metafile: true,
        define,
      });
      bundled = true;
      key = createHash('sha256')
        .update(JSON.stringify({ format: CACHE_FORMAT, runtime: runtime.sha256, seaOptions }))
        .update(await fsp.readFile(bundle))
        .digest('hex');
      if (useCache) {
        const inputs: Record<string, string> = {};
        for (const rel of Object.keys(r.metafile.inputs).sort()) inputs[rel] = await fileSha(path.join(root, rel));
        const last: LastBundle = { format: CACHE_FORMAT, defines: shape, runtime: runtime.sha256, inputs, key };
        await fsp.mkdir(cacheDir, { recursive: true });
        await fsp.writeFile(`${lastFile}.${process.pid}.tmp`, JSON.stringify(last, null, 2));
        await fsp.rename(`${lastFile}.${process.pid}.tmp`, lastFile);
        hit = await cachedExecutable(cacheDir, key);
      }
    }
    if (hit) {
      // In place: the cache entry itself (callers only read it); it was just hashed.
      if (opts.inPlace) return finish(hit.file, version, commit, runtime, t0, hit.sha256);
      await fsp.mkdir(path.dirname(out), { recursive: true });
      await fsp.copyFile(hit.file, tmpOut);
      await fsp.chmod(tmpOut, 0o755);
      await fsp.rename(tmpOut, out);
      return finish(out, version, commit, runtime, t0, hit.sha256);
    }
    if (!bundled) throw new Error('internal: no bundle to build from');
    // Distribution node binaries carry symbols and debug info the target never uses; the
    // stripped copy then writes the executable on itself (`--build-sea` uses the running
    // binary as the base).
    const base = path.join(work, 'node');
    await fsp.copyFile((await pinnedRuntime(root)).node, base);
    await fsp.chmod(base, 0o755);
    const strip = spawnSync('strip', ['--strip-all', base], { encoding: 'utf8' });
    if (strip.error || strip.status !== 0) {
      throw new Error(`strip --strip-all failed (${strip.error ? strip.error.message : `exit ${strip.status}`}): ${(strip.stderr ?? '').trim()}\n  hint: apt-get install binutils (without strip the image would differ)`);
    }
    await fsp.mkdir(path.dirname(out), { recursive: true });
    const seaConfig = path.join(work, 'sea-config.json');
    await fsp.writeFile(
      seaConfig,
      // Relative main: the executable records the main script's path, and a temp dir name in
      // it would make every build differ.
      JSON.stringify({ main: path.basename(bundle), output: tmpOut, ...seaOptions }),
    );
    const sea = spawnSync(base, ['--build-sea', seaConfig], { cwd: work, encoding: 'utf8' });
    if (sea.status !== 0) throw new Error(`node --build-sea failed (exit ${sea.status}): ${(sea.stderr ?? '').trim()}`);
    await fsp.rename(tmpOut, out);
    const r = await finish(out, version, commit, runtime, t0);
    if (useCache) {
      await keepExecutable(cacheDir, key!, out, r.sha256);
      if (opts.inPlace) return { ...r, path: path.join(cacheDir, key!, 'xs-agent') };
    }
    return r;
  } finally {
    await fsp.rm(tmpOut, { force: true });
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** The result for `out`; `cachedSha256` when it came from the cache (already hashed). */
async function finish(out: string, version: string, commit: string, runtime: RuntimeLock, t0: number, cachedSha256?: string): Promise<BuildResult> {
  const sha256 = cachedSha256 ?? (await fileSha(out));
  return {
    path: out,
    size: (await fsp.stat(out)).size,
    sha256,
    version,
    commit,
    runtime: { package: runtime.package, version: runtime.version, sha256: runtime.sha256 },
    cached: cachedSha256 !== undefined,
    ms: Date.now() - t0,
  };
}

async function cli(argv: string[]): Promise<number> {
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = argv[++i];
    else {
      process.stderr.write(`usage: node dist/agent/build.js [--out FILE]\n`);
      return 2;
    }
  }
  const r = await buildAgent({ out });
  process.stdout.write(`xs-agent ${r.version} (commit ${r.commit}, Node ${r.runtime.version}): ${path.relative(process.cwd(), r.path) || r.path}, ${(r.size / 1048576).toFixed(1)} MiB, sha256 ${r.sha256}, ${(r.ms / 1000).toFixed(1)} s${r.cached ? ' (cached)' : ''}\n`);
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
