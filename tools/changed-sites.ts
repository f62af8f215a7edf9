// Which sites a change touches, for the pull-request diff job: a site whose YAML changed,
// a site that uses (directly or through `requires`) a layer that changed, and every site
// when shared inputs changed (the builder, the agent, overlays, dependencies).
//   node dist/tools/changed-sites.js BASE_REF    prints the site names, one per line
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Paths that change no image: docs, tests, benchmarks, CI files. */
const NO_IMAGE = /^(docs\/|test\/|bench\/|\.github\/|\.ci\/|schemas\/|[^/]+\.md$|tools\/(?!depcheck\/))/;

export function changedSites(root: string, changed: string[]): string[] {
  const sites = readdirSync(path.join(root, 'sites')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  const requires = (layer: string): string[] => {
    const file = path.join(root, 'layers', layer, 'layer.yaml');
    if (!existsSync(file)) return [];
    const v = parse(readFileSync(file, 'utf8')) as { requires?: unknown } | null;
    return Array.isArray(v?.requires) ? v.requires.filter((x): x is string => typeof x === 'string') : [];
  };
  const layersOf = (site: string): Set<string> => {
    const v = parse(readFileSync(path.join(root, 'sites', `${site}.yaml`), 'utf8')) as { layers?: unknown } | null;
    const todo = Array.isArray(v?.layers) ? v.layers.filter((x): x is string => typeof x === 'string') : [];
    const seen = new Set<string>();
    while (todo.length) {
      const l = todo.pop()!;
      if (!seen.has(l)) {
        seen.add(l);
        todo.push(...requires(l));
      }
    }
    return seen;
  };
  const relevant = changed.filter((f) => !NO_IMAGE.test(f));
  if (relevant.some((f) => !f.startsWith('sites/') && !f.startsWith('layers/'))) return sites;
  return sites.filter((s) => {
    if (relevant.includes(`sites/${s}.yaml`)) return true;
    const layers = layersOf(s);
    return relevant.some((f) => f.startsWith('layers/') && layers.has(f.split('/')[1]!));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const base = process.argv[2];
  if (!base || process.argv.length > 3) {
    process.stderr.write('usage: node dist/tools/changed-sites.js BASE_REF\n');
    process.exit(2);
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = spawnSync('git', ['diff', '--name-only', `${base}...HEAD`], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`changed-sites: git diff ${base}...HEAD failed: ${r.stderr.trim()}\n`);
    process.exit(2);
  }
  for (const s of changedSites(root, r.stdout.split('\n').filter(Boolean))) process.stdout.write(`${s}\n`);
}
