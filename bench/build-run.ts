// One build in its own process, for bench/build.ts: prints the result's figures and the
// process's peak RSS as one JSON line. usage: node dist/bench/build-run.js '<json options>'
import { buildSite } from '../builder/pipeline.js';
import { silentReporter } from '../builder/progress.js';

const o = JSON.parse(process.argv[2]) as { site: string; root: string; outDir: string; cacheDir: string };
const r = await buildSite({ ...o, reporter: silentReporter, bareXorrisoRun: true });
process.stdout.write(
  JSON.stringify({
    seconds: r.seconds,
    xorrisoSeconds: r.xorrisoSeconds,
    bareXorrisoSeconds: r.bareXorrisoSeconds,
    hashedBytes: r.hashedBytes,
    isoBytes: r.manifest.iso?.size,
    files: r.manifest.files.length,
    stages: r.stages,
    // resourceUsage().maxRSS is in KiB.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
