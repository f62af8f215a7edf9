// Throughput of `xsbuild serve` against nginx, in one run, on loopback: N concurrent
// keep-alive clients (wrk) each fetching what an installing machine fetches — kernel,
// initrd(s) and 20 repository files — from the same netboot tree.
//
//   node dist/bench/serve.js [out/<site>] [--seconds 20] [--rounds 4] [--connections 50] [--threads 2] [--nginx-workers auto] [--no-cache]
//
// Without an output directory it builds the rioja site into a scratch directory first.
// Target: serve at least 0.7x nginx.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSite } from '../builder/pipeline.js';
import { silentReporter } from '../builder/progress.js';
import { PROJECT_DIR } from '../builder/paths.js';
import { loadManifest, startServer, type Serving } from '../builder/serve/server.js';
import { benchTree, REPO_SIZES_KIB } from './serve-tree.js';
import { cpuSeconds, startNginx, type Nginx } from './serve-nginx.js';
import { runWrk, writeWrkScript, type WrkResult } from './serve-wrk.js';
import { freePort } from '../test/helpers/net.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '4' },
    'nginx-workers': { type: 'string', default: 'auto' },
    // serve streaming every file from disk, as before it kept hot files in memory.
    'no-cache': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const threads = Number(values.threads);
const rounds = Math.max(1, Number(values.rounds));
const perRound = Math.max(1, Math.round(seconds / rounds));

function emptyResult(): WrkResult {
  return { bytes: 0, seconds: 0, requests: 0, clientCpu: 0, errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 } };
}

function add(sum: WrkResult, r: WrkResult): void {
  sum.bytes += r.bytes;
  sum.seconds += r.seconds;
  sum.requests += r.requests;
  sum.clientCpu += r.clientCpu;
  for (const k of Object.keys(sum.errors) as (keyof WrkResult['errors'])[]) sum.errors[k] += r.errors[k];
}

async function netbootDirOf(tmp: string): Promise<string> {
  if (positionals[0]) {
    const abs = path.resolve(positionals[0]);
    const nb = path.join(abs, 'netboot');
    return (await stat(path.join(nb, 'netboot.json')).then(() => true, () => false)) ? nb : abs;
  }
  console.log('building rioja into a scratch directory ...');
  const r = await buildSite({ site: 'rioja', root: PROJECT_DIR, outDir: path.join(tmp, 'out'), cacheDir: path.join(PROJECT_DIR, '.cache'), reporter: silentReporter });
  return path.join(r.outDir, 'netboot');
}

/** Both servers must hand out the same bytes for every path, or the race means nothing. */
async function sameBytes(paths: string[], bases: string[]): Promise<void> {
  for (const p of paths) {
    const sums = await Promise.all(
      bases.map(async (b) => {
        const res = await fetch(b + p);
        if (res.status !== 200) throw new Error(`${b}${p}: HTTP ${res.status}`);
        return createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');
      }),
    );
    if (new Set(sums).size !== 1) throw new Error(`${p}: the servers send different bytes`);
  }
}

function row(name: string, r: WrkResult, serverCpu: number): string {
  const mib = r.bytes / 1048576;
  return [
    name.padEnd(6),
    String(r.bytes).padStart(14),
    r.seconds.toFixed(2).padStart(8),
    (mib / r.seconds).toFixed(1).padStart(9),
    String(r.requests).padStart(9),
    `${((serverCpu / r.seconds) * 100).toFixed(0)}%`.padStart(8),
    `${((r.clientCpu / r.seconds) * 100).toFixed(0)}%`.padStart(8),
  ].join(' ');
}

function failures(r: WrkResult): string[] {
  return Object.entries(r.errors).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k} errors`);
}

const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-bench-serve-'));
let serving: Serving | undefined;
let nginx: Nginx | undefined;
let code = 0;
try {
  const netboot = await netbootDirOf(tmp);
  const manifest = await loadManifest(netboot);
  const tree = await benchTree(netboot, path.join(tmp, 'tree'), manifest);
  const refused: string[] = [];
  serving = await startServer({ dir: tree.dir, host: '127.0.0.1', port: 0, prefix: '/', log: (l) => refused.push(l), cacheBytes: values['no-cache'] ? 0 : undefined });
  const serveBase = serving.url.replace(/\/$/, '');
  nginx = await startNginx({ prefix: path.join(tmp, 'nginx'), root: tree.dir, port: await freePort(), workers: values['nginx-workers']! });
  await sameBytes(tree.paths, [serveBase, nginx.url]);
  const script = await writeWrkScript(path.join(tmp, 'install-set.lua'), tree.paths);

  console.log(`tree: ${netboot} (hard-link copy) + repo/: ${REPO_SIZES_KIB.length} generated files of RPM sizes (the demo site has no repository)`);
  console.log(`per client: ${tree.paths.length} files, ${(tree.bytesPerClient / 1048576).toFixed(1)} MiB (${tree.paths.slice(0, 1 + manifest.initrds.length).join(', ')}, repo/Packages/*)`);
  console.log(`load: wrk, ${connections} keep-alive connections, ${threads} thread(s), ${perRound * rounds} s per server in ${rounds} alternating rounds; ${cpus().length} CPUs; nginx worker_processes ${values['nginx-workers']}, sendfile on; serve ${values['no-cache'] ? 'streaming from disk (--no-cache)' : 'with its file cache'}`);

  // Warm the page cache and serve's JIT before anything is timed.
  for (const url of [serveBase, nginx.url]) await runWrk({ url, script, connections, threads, seconds: 2 });

  // Rounds alternate the order (serve, nginx; nginx, serve; ...) so that other load on
  // the machine and any drift fall on both alike; the figures are the sums.
  const s = emptyResult();
  const n = emptyResult();
  let serveCpu = 0;
  let nginxCpu = 0;
  const pids = await nginx.pids();
  const timeServe = async () => {
    const c0 = process.cpuUsage();
    add(s, await runWrk({ url: serveBase, script, connections, threads, seconds: perRound }));
    const c1 = process.cpuUsage(c0);
    serveCpu += (c1.user + c1.system) / 1e6;
  };
  const timeNginx = async () => {
    const n0 = await cpuSeconds(pids);
    add(n, await runWrk({ url: nginx!.url, script, connections, threads, seconds: perRound }));
    nginxCpu += (await cpuSeconds(pids)) - n0;
  };
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      await timeServe();
      await timeNginx();
    } else {
      await timeNginx();
      await timeServe();
    }
  }

  console.log(`server          bytes  seconds     MiB/s  requests  srv CPU  wrk CPU`);
  console.log(row('serve', s, serveCpu));
  console.log(row('nginx', n, nginxCpu));
  const ratio = s.bytes / s.seconds / (n.bytes / n.seconds);
  console.log(`ratio serve/nginx: ${ratio.toFixed(2)} (target >= 0.70: ${ratio >= 0.7 ? 'met' : 'NOT met'})`);
  for (const [name, r] of [['serve', s], ['nginx', n]] as const) {
    const f = failures(r);
    if (f.length) {
      console.log(`${name}: ${f.join(', ')}`);
      code = 1;
    }
  }
  if (refused.length) console.log(`serve logged ${refused.length} refused/failed requests, first: ${refused[0]}`);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  code = 1;
} finally {
  await nginx?.stop();
  await serving?.close();
  await rm(tmp, { recursive: true, force: true });
}
process.exit(code);
