// Build-time figures for the rioja image: cold (empty cache: the demo base is built
// from Debian packages) and warm (cache filled), and the bare xorriso call inside.
// Usage: make bench   (or node dist/bench/build.js [site])
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../builder/pipeline.js';
import { silentReporter } from '../builder/progress.js';
import { PROJECT_DIR } from '../builder/paths.js';

const site = process.argv[2] ?? 'rioja';
const tmp = await mkdtemp(path.join(tmpdir(), 'xsbuild-bench-'));
try {
  const cache = path.join(tmp, 'cache');
  const rows: [string, number, number][] = [];
  for (const label of ['cold', 'warm', 'warm']) {
    const r = await buildSite({ site, root: PROJECT_DIR, outDir: path.join(tmp, 'out'), cacheDir: cache, reporter: silentReporter });
    rows.push([label, r.seconds, r.xorrisoSeconds]);
    if (label === 'cold') console.log(`iso: ${r.manifest.iso?.name} ${(r.manifest.iso!.size / 1048576).toFixed(1)} MiB, ${r.manifest.files.length} files`);
  }
  console.log('build   total s   xorriso s');
  for (const [l, t, x] of rows) console.log(`${l.padEnd(6)} ${t.toFixed(2).padStart(8)} ${x.toFixed(2).padStart(10)}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
