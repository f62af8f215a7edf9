// What a release of a site contains, gathered from the same inputs an image build uses:
// each layer's files for the installed system, its packages, its %post fragment (run on
// servers once per release), and the site's library directories.
import path from 'node:path';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Validated } from '../pipeline.js';
import { renderLayerScript } from './scripts.js';

export interface ContentFile {
  /** Absolute target path (layers) or path relative to the library dest / repo root. */
  path: string;
  mode: string;
  /** Host file holding the bytes. */
  source: string;
}

export interface ReleaseContent {
  layers: { name: string; version: string; packages: string[]; files: ContentFile[]; script?: string }[];
  library: { dest: string; files: ContentFile[] }[];
  repo?: ContentFile[];
  /** Removes what gathering built (the agent executable); call when done with the files. */
  cleanup: () => Promise<void>;
}

export async function gatherContent(v: Validated, opts: { packagesDir?: string; info?: (m: string) => void }): Promise<ReleaseContent> {
  const artifacts = new Map<string, string>();
  let work: string | undefined;
  const layers: ReleaseContent['layers'] = [];
  for (const l of v.layers.layers) {
    const files: ContentFile[] = [];
    for (const f of v.layers.targetFiles.filter((x) => x.layer === l.name)) {
      let source: string;
      if ('path' in f.source) source = f.source.path;
      else {
        const a = f.source.artifact;
        if (!artifacts.has(a)) {
          work ??= await mkdtemp(path.join(tmpdir(), 'xsbuild-publish-'));
          opts.info?.(`building ${a}`);
          // Loaded only when a layer ships one: it brings esbuild with it.
          const { buildArtifact } = await import('../artifacts.js');
          artifacts.set(a, await buildArtifact(a, work));
        }
        source = artifacts.get(a)!;
      }
      files.push({ path: f.dest, mode: f.mode ?? '0644', source });
    }
    const script = await renderLayerScript(v, l);
    layers.push({ name: l.name, version: l.version, packages: [...(l.layer.packages ?? [])], files, ...(script !== undefined ? { script } : {}) });
  }
  const library: ReleaseContent['library'] = [];
  for (const lib of v.site.library) library.push({ dest: lib.dest, files: await walk(lib.source) });
  const built = work;
  const out: ReleaseContent = { layers, library, cleanup: async () => { if (built) await rm(built, { recursive: true, force: true }); } };
  if (opts.packagesDir) out.repo = await walk(path.resolve(opts.packagesDir));
  return out;
}

/** Regular files under dir, sorted, with relative '/'-separated paths. */
async function walk(dir: string): Promise<ContentFile[]> {
  const out: ContentFile[] = [];
  const rec = async (rel: string) => {
    const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // A directory's files stat'ed together (thousands of library files, one at a time, was
    // most of an unchanged publish's wait); sub-directories in order, so the list is sorted.
    const files = entries.filter((e) => e.isFile()).map((e) => path.join(dir, rel, e.name));
    const modes = new Map(await Promise.all(files.map(async (abs) => [abs, (await stat(abs)).mode] as const)));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, r);
      if (e.isDirectory()) await rec(r);
      else if (e.isFile()) out.push({ path: r, mode: modes.get(abs)! & 0o111 ? '0755' : '0644', source: abs });
    }
  };
  await rec('');
  return out;
}
