// The build: plan (builder/plan/plan.ts: load site → resolve layers → render → the list
// of stages) then realize (builder/plan/realize.ts: base → repos → artifacts → stage →
// hash → manifest → master → verify → netboot → etherboot → checksums → publish output).
// `xsbuild plan <site>` prints the plan; `validate` is plan without realize.
import path from 'node:path';
import { planBuild, type Planned } from './plan/plan.js';
import { realize, type BuildResult } from './plan/realize.js';
import { humanSize as human } from '../lib/size.js';
import type { LoadedSite } from './site.js';
import type { ResolvedLayers } from './layers.js';
import type { Reporter } from './progress.js';

export type { BuildResult };

export interface BuildOptions {
  site: string;
  outDir?: string;
  release?: string;
  root?: string;
  cacheDir?: string;
  reporter: Reporter;
  /** EnrolTokensFile (xsbuild fleet tokens): each machine's token in its netboot kickstart. */
  enrolTokens?: string;
  /** Benchmarks only (builder/plan/realize.ts). */
  bareXorrisoRun?: boolean;
}

export interface Validated {
  site: LoadedSite;
  layers: ResolvedLayers;
  kickstart: string;
  planned: Planned;
}

/** Schema + layer resolution + every kickstart rendered: the plan, nothing built. */
export async function validateSite(opts: Pick<BuildOptions, 'site' | 'release' | 'root'>, r?: Reporter): Promise<Validated> {
  const planned = await planBuild({ ...opts, withoutEpoch: true }, r);
  return { site: planned.site, layers: planned.layers, kickstart: planned.kickstart, planned };
}

export async function buildSite(opts: BuildOptions): Promise<BuildResult> {
  const planned = await planBuild(opts, opts.reporter);
  return realize(planned, { cacheDir: path.resolve(opts.cacheDir ?? path.join(planned.site.root, '.cache')), reporter: opts.reporter, bareXorrisoRun: opts.bareXorrisoRun });
}

export { human };
