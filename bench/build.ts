// Build-time figures: cold (empty cache: the demo base, stage outputs and file hashes are
// made), warm (nothing changed), and warm after one library file changed, each beside
// the bare xorriso call on the same output in the same run, with the builder's peak RSS.
// `--library-gib N` adds a generated library of N GiB to the site (1 MiB files, plus two
// large ones when N ≥ 2), the scale real sites have; the targets are issue 13's.
// Usage: make bench   (or node dist/bench/build.js [site] [--library-gib 4])
import { cp, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { PROJECT_DIR } from '../builder/paths.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'library-gib': { type: 'string', default: '0' } } });
const site = positionals[0] ?? 'rioja';
const gib = Number(values['library-gib']);
const MiB = 1 << 20;

interface Run {
  seconds: number;
  xorrisoSeconds: number;
  bareXorrisoSeconds: number;
  hashedBytes: number;
  isoBytes: number;
  files: number;
  stages: { name: string; seconds: number }[];
  peakRssMiB: number;
}

/** Random content (xorriso and hashing cost the same whatever the bytes; random defeats any dedup). */
async function writeRandom(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  const buf = Buffer.alloc(Math.min(bytes, 8 * MiB));
  for (let done = 0; done < bytes; done += buf.length) await fh.write(randomFillSync(buf), 0, Math.min(buf.length, bytes - done));
  await fh.close();
}

async function library(dir: string, gib: number): Promise<string[]> {
  const big = gib >= 2 ? 2 : 0;
  const small = Math.round((gib - big) * 1024);
  const files: string[] = [];
  for (let i = 0; i < small; i++) {
    const d = path.join(dir, `shelf-${String(Math.floor(i / 100)).padStart(2, '0')}`);
    if (i % 100 === 0) await mkdir(d, { recursive: true });
    files.push(path.join(d, `item-${String(i).padStart(4, '0')}.bin`));
    await writeRandom(files[files.length - 1], MiB);
  }
  for (let i = 0; i < big; i++) {
    files.push(path.join(dir, `video-${i}.bin`));
    await writeRandom(files[files.length - 1], 1024 * MiB);
  }
  return files;
}

const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-bench-'));
try {
  const root = path.join(tmp, 'project');
  for (const d of ['sites', 'layers', 'overlays']) await cp(path.join(PROJECT_DIR, d), path.join(root, d), { recursive: true });
  const cacheDir = path.join(tmp, 'cache');
  // Downloaded .debs are not what is measured: reuse the project's, when there.
  await cp(path.join(PROJECT_DIR, '.cache', 'debs'), path.join(cacheDir, 'debs'), { recursive: true }).catch(() => {});
  let files: string[] = [];
  if (gib > 0) {
    const t = Date.now();
    const lib = path.join(tmp, 'library');
    files = await library(lib, gib);
    const siteFile = path.join(root, 'sites', `${site}.yaml`);
    const text = await readFile(siteFile, 'utf8');
    await writeFile(siteFile, text.replace(/^library:\n/m, `library:\n  - source: ${lib}\n    dest: /library/bench\n`));
    console.log(`library: ${files.length} files, ${gib} GiB generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const opts = { site, root, outDir: path.join(tmp, 'out'), cacheDir };
  const build = (): Run => JSON.parse(execFileSync(process.execPath, [path.join(PROJECT_DIR, 'dist', 'bench', 'build-run.js'), JSON.stringify(opts)], { env: { ...process.env, SOURCE_DATE_EPOCH: '1790000000' }, encoding: 'utf8', maxBuffer: 1 << 24 }));

  const rows: [string, Run, number][] = [];
  rows.push(['cold', build(), 1.6]);
  rows.push(['warm, no change', build(), 1.15]);
  if (files.length) {
    const f = files[Math.floor(files.length / 2)];
    const fh = await open(f, 'r+');
    await fh.write(randomFillSync(Buffer.alloc(4096)), 0, 4096, 0);
    await fh.close();
    rows.push(['warm, 1 library file changed', build(), 1.3]);
  }
  const r0 = rows[0][1];
  console.log(`site ${site}: ISO ${(r0.isoBytes / MiB).toFixed(1)} MiB, ${r0.files} files; load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
  console.log('build                          total s  bare xorriso s  ratio  target  hashed MiB  peak RSS MiB (target 256)');
  for (const [label, r, target] of rows) {
    const ratio = r.seconds / r.bareXorrisoSeconds;
    console.log(
      `${label.padEnd(30)} ${r.seconds.toFixed(2).padStart(7)} ${r.bareXorrisoSeconds.toFixed(2).padStart(15)} ${ratio.toFixed(2).padStart(6)}  ≤${target.toFixed(2)}  ${(r.hashedBytes / MiB).toFixed(0).padStart(10)}  ${r.peakRssMiB.toFixed(0).padStart(12)}`,
    );
  }
  console.log('stage seconds (warm, no change):', rows[1][1].stages.filter((s) => s.seconds >= 0.05).map((s) => `${s.name} ${s.seconds.toFixed(2)}`).join(', '));
} finally {
  await rm(tmp, { recursive: true, force: true });
}
