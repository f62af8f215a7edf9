// Load on `xsbuild fleet serve`, loopback only: N simulated school servers each POST an
// enrolment (token-approved) and R signed reports over C concurrent keep-alive
// connections; then the page's load time in headless Chromium with N servers in the
// database. For PGlite and for a PostgreSQL server the bench starts itself.
//
//   node dist/bench/fleet.js [--servers 5000] [--reports 10] [--connections 50] [--engines pglite,postgres]
//
// Targets: 280 reports/s on PGlite (5,000 servers at a 30-minute interval send 2.8/s;
// 100x that), more on PostgreSQL; the page loads in under 1 s at 5,000 servers.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../builder/fleet/db.js';
import { migrate } from '../builder/fleet/migrations.js';
import { FleetStore } from '../builder/fleet/store.js';
import { CLI } from '../test/helpers/project.js';
import { freePort } from '../test/helpers/net.js';
import { mac, officeKey, postgresMissing, SimServer, startPostgres, startServe, type Postgres } from '../test/fleet/helpers.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '5000' },
    reports: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    engines: { type: 'string', default: 'pglite,postgres' },
  },
});
const N = Number(values.servers);
const R = Number(values.reports);
const C = Number(values.connections);
// Bounded: a stuck service fails the bench instead of hanging it.
const REQUEST_TIMEOUT_MS = 120_000;
const PHASE_LIMIT_MS = 15 * 60_000;

function postJson(agent: http.Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs jobs over C workers; returns wall time and per-request latencies (ms). */
async function load(jobs: (() => Promise<void>)[]): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const deadline = Date.now() + PHASE_LIMIT_MS;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < jobs.length) {
        if (Date.now() > deadline) throw new Error('phase took longer than its limit');
        const job = jobs[next++];
        const s = performance.now();
        await job();
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function pageLoad(url: string, profile: string): Promise<{ first: number; median: number; rows: number }> {
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const times: number[] = [];
    for (const q of ['', '?page=37', '?q=escuela-49', '?state=approved&page=100', '']) {
      const t0 = performance.now();
      await page.goto(`${url}${q}`, { waitUntil: 'load' });
      times.push(performance.now() - t0);
    }
    const rows = await page.locator('#hosts tbody tr').count();
    return { first: times[0], median: pct(times, 50), rows };
  } finally {
    await ctx.close();
  }
}

async function bench(engine: 'pglite' | 'postgres'): Promise<Record<string, number | string>> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-bench-'));
  let pg: Postgres | undefined;
  try {
    if (engine === 'postgres') pg = await startPostgres();
    const spec = pg ? pg.url : path.join(tmp, 'fleet-db');
    const key = await officeKey(tmp);
    const servers = Array.from({ length: N }, (_, i) => new SimServer(['rioja', 'paraguay'][i % 2], `escuela-${i}`, [mac(i), mac(i, 1)]));
    const d = await openDb(spec);
    await migrate(d);
    const store = new FleetStore(d);
    const tokens = new Map<string, string>();
    for (const site of ['rioja', 'paraguay']) {
      const mine = servers.filter((s) => s.site === site);
      for (const t of await store.issueTokens(site, mine.map((s) => ({ host: s.host, macs: s.macs, nics: { wan: s.macs[0], lan: s.macs[1] } })), new Date(Date.now() + 86400_000), new Date())) tokens.set(`${site}/${t.host}`, t.token);
    }
    await d.close();
    // Signed before the clock starts: the bench measures the service, not the clients' signing.
    const enrolBodies = servers.map((s) => JSON.stringify(s.enrol(tokens.get(`${s.site}/${s.host}`))));
    const reportBodies: string[] = [];
    for (let r = 0; r < R; r++) for (const s of servers) reportBodies.push(JSON.stringify(s.report({ result: r % 7 === 6 ? 'failed' : 'applied', ...(r % 7 === 6 ? { error: 'packages: dnf exited with 1' } : {}) })));

    const serve = await startServe(CLI, ['--db', spec, '--listen', `127.0.0.1:${await freePort()}`, '--key', key.file]);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: C });
      let bad = 0;
      // Open the C keep-alive connections before the clock starts. While PGlite keeps the
      // event loop busy, Node accepts new connections late, so without this the last of
      // the first 50 connections waited for thousands of requests on the others (a
      // benchmark artifact: real agents arrive spread out, on fresh connections).
      await Promise.all(
        Array.from({ length: C }, () => new Promise<void>((resolve, reject) => http.get(new URL('api/waiting', serve.url), { agent }, (res) => res.resume().on('end', () => resolve())).on('error', reject))),
      );
      const enrolUrl = new URL('v1/enrol', serve.url);
      const enrol = await load(
        enrolBodies.map((b) => async () => {
          const r = await postJson(agent, enrolUrl, b);
          if (r.status !== 200 || !r.text.includes('"approved"')) bad++;
        }),
      );
      const reportUrl = new URL('v1/report', serve.url);
      const reports = await load(
        reportBodies.map((b) => async () => {
          const r = await postJson(agent, reportUrl, b);
          if (r.status !== 202 || !r.text.includes('"trusted"')) bad++;
        }),
      );
      agent.destroy();
      if (bad) throw new Error(`${bad} requests were not answered approved/trusted`);
      const page = await pageLoad(serve.url, path.join(tmp, 'profile'));
      return {
        engine,
        servers: N,
        'enrol/s': Math.round(N / enrol.seconds),
        'enrol p99 ms': Math.round(pct(enrol.latencies, 99)),
        reports: reportBodies.length,
        'reports/s': Math.round(reportBodies.length / reports.seconds),
        'report p50 ms': Math.round(pct(reports.latencies, 50)),
        'report p99 ms': Math.round(pct(reports.latencies, 99)),
        'page first load ms': Math.round(page.first),
        'page median load ms': Math.round(page.median),
        'rows on page': page.rows,
      };
    } finally {
      await serve.stop();
    }
  } finally {
    await pg?.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

const results: Record<string, number | string>[] = [];
for (const e of values.engines.split(',') as ('pglite' | 'postgres')[]) {
  if (e === 'postgres' && postgresMissing()) {
    process.stdout.write(`postgres: skipped (${postgresMissing()})\n`);
    continue;
  }
  process.stdout.write(`${e}: ${N} servers x (1 enrolment + ${R} reports), ${C} connections...\n`);
  const r = await bench(e);
  results.push(r);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
process.stdout.write('\nengine     reports/s  p99 ms  enrol/s  page load ms (first / median)   target: 280 reports/s on PGlite, page < 1000 ms\n');
for (const r of results) {
  process.stdout.write(`${String(r.engine).padEnd(10)} ${String(r['reports/s']).padStart(9)} ${String(r['report p99 ms']).padStart(7)} ${String(r['enrol/s']).padStart(8)}  ${r['page first load ms']} / ${r['page median load ms']}\n`);
}
