// Figures for slow and hostile networks, all on 127.0.0.1 (make bench-hostile):
//   - the agent's peak RSS while a server answers a chunk, then release.json, with an
//     endless stream;
//   - the time a 1 MiB release takes over a 2 KB/s link (shared by every request), with
//     the default timeout, floor rate and parallelism;
//   - the time a 1 B/s drip takes to be given up, at the defaults;
//   - two pulls started together, N trials: how often exactly one applied.
// Options: --mib N (release size, 1), --rate B/S (2048), --trials N (200),
// --skip endless,slow,drip (leave parts out; against an agent without bounded reads the
// endless part grows it by gigabytes until its 300 s limit).
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { hostileRepo, streamForever, drip } from '../test/helpers/hostile.js';
import { smallRelease, scratchDir, runWatched } from '../test/updates/hostile-helpers.js';
import { pullArgs, runAgent } from '../test/updates/helpers.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1' }, rate: { type: 'string', default: '2048' }, trials: { type: 'string', default: '200' }, skip: { type: 'string', default: '' } } });
const skip = new Set(values.skip!.split(',').filter(Boolean));
const mib = Number(values.mib);
const rate = Number(values.rate);
const trials = Number(values.trials);

function dirs(): { root: string; state: string; done(): void } {
  const root = scratchDir('xs-root-');
  const state = scratchDir('xs-state-');
  return { root, state, done: () => [root, state].forEach((d) => rmSync(d, { recursive: true, force: true })) };
}

const rel = await smallRelease(Math.round(mib * 1048576), 'bench');
try {
  for (const what of skip.has('endless') ? [] : (['chunk', 'release.json'] as const)) {
    const srv = await hostileRepo(rel.repo, { override: (p, _q, res) => (what === 'chunk' ? p.startsWith('chunks/') : p === what) && (streamForever(res), true) });
    const d = dirs();
    const r = await runWatched(pullArgs(srv.url, d.root, d.state, rel.pub, ['--no-report']), 300_000);
    console.log(`endless ${what}: exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.peakMiB.toFixed(0)} MiB; ${r.stdout.split('\n').find((l) => l.includes('refused:'))?.replace(/^xs-agent: /, '') ?? ''}`);
    d.done();
    await srv.close();
  }

  if (!skip.has('slow')) {
    const srv = await hostileRepo(rel.repo, { rate });
    const d = dirs();
    const r = await runWatched(pullArgs(srv.url, d.root, d.state, rel.pub, ['--no-report']), 4 * 3600_000);
    const requests = srv.log.length;
    console.log(`${mib} MiB release over ${rate} B/s: exit ${r.code} after ${(r.ms / 1000).toFixed(0)} s (${((mib * 1048576) / rate).toFixed(0)} s of pure transfer at that rate), ${requests} requests, peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    for (const l of r.stdout.split('\n').filter((x) => /fetched|retry|applied/.test(x)).slice(-3)) console.log(`  ${l}`);
    d.done();
    await srv.close();
  }

  if (!skip.has('drip')) {
    const srv = await hostileRepo(rel.repo, { override: (p, _q, res) => p.startsWith('chunks/') && (drip(res, 1000), true) });
    const d = dirs();
    const r = await runWatched(pullArgs(srv.url, d.root, d.state, rel.pub, ['--no-report']), 3600_000);
    console.log(`1 B/s drip at the defaults: exit ${r.code} after ${(r.ms / 1000).toFixed(0)} s; ${r.stdout.split('\n').find((l) => l.includes('pull failed'))?.replace(/^xs-agent: /, '') ?? ''}`);
    d.done();
    await srv.close();
  }

  let one = 0;
  let both = 0;
  let busy = 0;
  const t0 = Date.now();
  for (let i = 0; i < trials; i++) {
    const d = dirs();
    const runs = await Promise.all([0, 1].map(() => runAgent(pullArgs(rel.repo, d.root, d.state, rel.pub, ['--no-report']))));
    const applied = runs.filter((r) => /release 1 \(2026\.1\) applied/.test(r.stdout)).length;
    if (applied === 1) one++;
    if (applied === 2) both++;
    if (runs.some((r) => /another pull is running/.test(r.stderr))) busy++;
    d.done();
  }
  console.log(`two pulls at once, ${trials} trials: exactly one applied in ${one}, both in ${both}, none in ${trials - one - both}; the other was turned away by the lock in ${busy} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
} finally {
  await rel.cleanup();
}
