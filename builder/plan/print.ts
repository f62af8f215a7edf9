// `xsbuild plan <site>` as text: what will be built, from what, by which stage and
// module, so a reader can go from the plan to the code. `--json` prints the BuildPlan.
import path from 'node:path';
import type { BuildPlan } from './types.js';

export function planText(p: BuildPlan, cwd = process.cwd()): string {
  const rel = (f: string) => path.relative(cwd, f) || f;
  const base = typeof p.site.base === 'string' ? p.site.base : JSON.stringify(p.site.base);
  const lines = [
    `site ${p.site.name} ${p.site.release} (${rel(p.site.file)}), volume ${p.site.volumeId}, base ${base}`,
    `build time ${p.epoch ? new Date(p.epoch * 1000).toISOString() : '(none: not a git checkout and no SOURCE_DATE_EPOCH)'}`,
    `output ${rel(p.output.dir)}/${p.output.iso}`,
    '',
    'layers:',
    ...p.layers.map((l) => `  ${l.name} ${l.version}  ${rel(l.file)}  content ${l.contentSha256.slice(0, 12)}`),
    `packages: ${p.packages.join(' ')}${p.excludePackages.length ? `  (excluded: ${p.excludePackages.join(' ')})` : ''}`,
    '',
    'kickstarts:',
    ...p.kickstarts.map((k) => `  ${k.path}  ${k.machine ? `machine ${k.machine}` : 'default'}  ${k.bytes} bytes  sha256 ${k.sha256.slice(0, 12)}${k.secret ? '  (carries an enrolment token)' : ''}`),
    ...(p.repoLines.media.length ? [`repo lines: ${p.repoLines.media.map((r) => `${r.name} ${r.baseurl}`).join(', ')}`] : []),
    '',
    `files from layers (${p.files.length}):`,
    ...p.files.map((f) => `  ${f.isoPath}  ← ${'file' in f.from ? rel(f.from.file) : `artifact ${f.from.artifact}`}  (${f.origin})`),
    `library (${p.library.length}):`,
    ...p.library.map((l) => `  ${l.isoPath}/  ← ${rel(l.source)}/`),
    ...(p.netboot ? ['', `netboot: ${p.netboot.serverUrl}, ${p.netboot.machines.length} machine record(s), unknown machines: ${p.netboot.unknownMachines}`] : []),
    '',
    'stages:',
    ...p.stages.flatMap((s, i) => [
      `  ${String(i + 1).padStart(2)}. ${s.name}  [${s.module}]${s.cache ? `  cached: ${s.cache}` : ''}`,
      `      in:  ${s.inputs.join('; ')}`,
      `      out: ${s.outputs.join('; ')}`,
    ]),
  ];
  return lines.join('\n') + '\n';
}

/** The plan as JSON, without machine-local noise (absolute paths stay: they are where the build reads). */
export function planJson(p: BuildPlan): string {
  return JSON.stringify(p, null, 2) + '\n';
}
