// Remaster figures (issue 18): a site on a generated Anaconda-layout DVD with GiBs of
// package files, built cold (empty cache: the base's sha256 and file hashes are read),
// warm after a layer change, and warm with nothing changed; each beside the bare
// xorriso replay of the same base (the build's own xorriso command, run again) in the
// same run, with the builder's peak RSS.
// usage: node dist/bench/remaster.js [--gib 3]
import { appendFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { buildFixture } from '../test/installer/fixture.js';
import { PROJECT_DIR } from '../builder/paths.js';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '3' } } });
const gib = Number(values.gib);
const MiB = 1 << 20;

interface Run {
  seconds: number;
  bareXorrisoSeconds: number;
  hashedBytes: number;
  isoBytes: number;
  stages: { name: string; seconds: number }[];
  peakRssMiB: number;
}

const t = Date.now();
const fx = await buildFixture({ packageBytes: Math.round(gib * 1024) * MiB });
try {
  console.log(`base: ${path.basename(fx.iso)}, ${(statSync(fx.iso).size / MiB).toFixed(0)} MiB, generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const opts = { site: 'xsdvd', root: fx.project, outDir: path.join(fx.dir, 'out'), cacheDir: path.join(fx.dir, 'cache') };
  const build = (): Run => JSON.parse(execFileSync(process.execPath, [path.join(PROJECT_DIR, 'dist', 'bench', 'build-run.js'), JSON.stringify(opts)], { env: { ...process.env, SOURCE_DATE_EPOCH: '1790000000' }, encoding: 'utf8', maxBuffer: 1 << 24 }));
  const rows: [string, Run, number][] = [];
  rows.push(['cold', build(), 1.6]);
  // A layer change: the layer's YAML gains a comment (new content hash, new manifest).
  await appendFile(path.join(fx.project, 'layers', 'xs-hello', 'layer.yaml'), '# changed\n');
  rows.push(['warm, a layer changed', build(), 1.2]);
  rows.push(['warm, no change', build(), 1.2]);
  console.log(`load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log('build                     total s  bare replay s  ratio  target  hashed MiB  peak RSS MiB (target 256)');
  for (const [label, r, target] of rows) {
    console.log(`${label.padEnd(25)} ${r.seconds.toFixed(2).padStart(7)} ${r.bareXorrisoSeconds.toFixed(2).padStart(14)} ${(r.seconds / r.bareXorrisoSeconds).toFixed(2).padStart(6)}  ≤${target.toFixed(2)}  ${(r.hashedBytes / MiB).toFixed(0).padStart(10)}  ${r.peakRssMiB.toFixed(0).padStart(12)}`);
  }
  for (const [label, r] of rows) console.log(`stages (${label}):`, r.stages.filter((s) => s.seconds >= 0.05).map((s) => `${s.name} ${s.seconds.toFixed(2)}`).join(', '));
} finally {
  await rm(fx.dir, { recursive: true, force: true });
}
