// Stage "resolve layers": load every layer the site needs, order them by `requires`
// (stable: the site's order, dependencies first), detect cycles, and merge.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LayerSchema, type Layer, type FileEntry, type Artifact } from './schema.js';
import { loadYaml, type LoadedYaml } from './yamlfile.js';
import { InputError, InputErrors, type SourcePosition } from './errors.js';
import { insideRoot } from './paths.js';
import { filesUnder } from '../lib/tree.js';
import type { LoadedSite } from './site.js';

export interface ResolvedLayer {
  name: string;
  version: string;
  dir: string;
  file: string;
  layer: Layer;
  contentSha256: string;
  pos: LoadedYaml<Layer>['pos'];
}

/** A file to place: its real source on disk (or a program xsbuild builds), and who asked for it. */
export interface PlacedFile {
  dest: string;
  source: { path: string } | { artifact: Artifact };
  mode?: string;
  layer: string;
}

export interface ResolvedLayers {
  layers: ResolvedLayer[];
  packages: { name: string; layer: string }[];
  excludePackages: { name: string; layer: string }[];
  targetFiles: PlacedFile[];
  mediaFiles: PlacedFile[];
}

export async function resolveLayers(site: LoadedSite): Promise<ResolvedLayers> {
  const loaded = new Map<string, ResolvedLayer>();
  const order: ResolvedLayer[] = [];
  const visiting: string[] = [];

  const load = async (name: string, from: SourcePosition): Promise<ResolvedLayer> => {
    const cached = loaded.get(name);
    if (cached) return cached;
    const dir = path.join(site.root, 'layers', name);
    const file = path.join(dir, 'layer.yaml');
    const display = path.relative(process.cwd(), file) || file;
    try {
      await stat(file);
    } catch {
      throw new InputError(from, `layer "${name}" not found (no ${path.relative(site.root, file)})`, `create layers/${name}/layer.yaml or remove "${name}"`);
    }
    const y = await loadYaml(file, LayerSchema, display);
    if (y.data.name !== name) {
      throw new InputError(y.pos(['name']), `layer name "${y.data.name}" does not match its directory "${name}"`, `set name: ${name}`, 'name');
    }
    const r: ResolvedLayer = { name, version: y.data.version, dir, file: display, layer: y.data, pos: y.pos, contentSha256: await hashTree(dir) };
    loaded.set(name, r);
    return r;
  };

  const visit = async (name: string, from: SourcePosition) => {
    if (order.some((l) => l.name === name)) return;
    if (visiting.includes(name)) {
      const cycle = [...visiting.slice(visiting.indexOf(name)), name].join(' → ');
      throw new InputError(from, `layer cycle: ${cycle}`, 'remove one of these "requires" entries so the layers form a chain');
    }
    const layer = await load(name, from);
    visiting.push(name);
    const reqs = layer.layer.requires ?? [];
    for (let i = 0; i < reqs.length; i++) await visit(reqs[i], layer.pos(['requires', i]));
    visiting.pop();
    order.push(layer);
  };

  const names = site.data.layers;
  for (let i = 0; i < names.length; i++) await visit(names[i], site.pos(['layers', i]));
  return merge(order);
}

async function merge(layers: ResolvedLayer[]): Promise<ResolvedLayers> {
  const packages: ResolvedLayers['packages'] = [];
  const excludePackages: ResolvedLayers['excludePackages'] = [];
  for (const l of layers) {
    for (const p of l.layer.packages ?? []) if (!packages.some((x) => x.name === p)) packages.push({ name: p, layer: l.name });
    for (const p of l.layer.excludePackages ?? []) if (!excludePackages.some((x) => x.name === p)) excludePackages.push({ name: p, layer: l.name });
  }
  const targetFiles = await place(layers, 'files');
  const mediaFiles = await place(layers, 'media');
  return { layers, packages, excludePackages, targetFiles, mediaFiles };
}

/** Files from all layers; a later layer may replace a path only with `override: true`. */
async function place(layers: ResolvedLayer[], kind: 'files' | 'media'): Promise<PlacedFile[]> {
  const byDest = new Map<string, { file: PlacedFile; where: SourcePosition }>();
  const errors: InputError[] = [];
  for (const l of layers) {
    const entries: FileEntry[] = l.layer[kind] ?? [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const where = l.pos([kind, i, 'dest']);
      if ((e.src === undefined) === (e.artifact === undefined)) {
        throw new InputError(l.pos([kind, i]), 'an entry needs exactly one of "src" and "artifact"', 'name a file of the layer (src) or a program xsbuild builds (artifact: xs-agent)', `${kind}[${i}]`);
      }
      const source = e.artifact ? { artifact: e.artifact } : { path: await insideRoot(l.dir, e.src!, l.pos([kind, i, 'src']), `${kind}[${i}].src`) };
      const prev = byDest.get(e.dest);
      if (prev && !e.override) {
        const p = prev.where;
        errors.push(
          new InputError(
            where,
            `${e.dest} is already written by layer "${prev.file.layer}" (${p.file}:${p.line}:${p.col})`,
            `add "override: true" to this entry if layer "${l.name}" should replace it, or pick another path`,
            `${kind}[${i}].dest`,
          ),
        );
        continue;
      }
      byDest.set(e.dest, { file: { dest: e.dest, source, mode: e.mode, layer: l.name }, where });
    }
  }
  if (errors.length) throw new InputErrors(errors);
  return [...byDest.values()].map((v) => v.file).sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
}

/** A content hash of a directory that depends only on relative paths and bytes. */
export async function hashTree(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const r of await filesUnder(dir)) {
    const data = await readFile(path.join(dir, r));
    h.update(`${r}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex');
}
