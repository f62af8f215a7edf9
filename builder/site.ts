// Stage "load site": find and validate sites/<name>.yaml, and derive what every later
// stage needs (project root, volume id, library sources, the build epoch).
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { SiteSchema, type Site } from './schema.js';
import { loadYaml, type LoadedYaml } from './yamlfile.js';
import { InputError } from './errors.js';
import { insideRoot } from './paths.js';

export interface LoadedSite extends LoadedYaml<Site> {
  root: string;
  release: string;
  volumeId: string;
  library: { source: string; dest: string }[];
}

const VOLID = /^[A-Z0-9_-]{1,32}$/;

/** `arg` is a site name (sites/<name>.yaml under root) or a path to a YAML file. */
export async function loadSite(arg: string, opts: { root?: string; release?: string } = {}): Promise<LoadedSite> {
  const isPath = arg.endsWith('.yaml') || arg.endsWith('.yml') || arg.includes('/');
  const root = path.resolve(opts.root ?? (isPath ? await findRoot(path.dirname(path.resolve(arg))) : process.cwd()));
  const file = isPath ? path.resolve(arg) : path.join(root, 'sites', `${arg}.yaml`);
  const display = path.relative(process.cwd(), file) || file;
  if (!isPath && !/^[a-z0-9][a-z0-9-]*$/.test(arg)) {
    throw new InputError({ file: arg }, 'not a site name or a .yaml path', 'give a site name (sites/<name>.yaml) or a path to a site file');
  }
  const y = await loadYaml(file, SiteSchema, display);
  const site = y.data;
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (site.site !== expected) {
    throw new InputError(y.pos(['site']), `site "${site.site}" does not match its file name "${expected}"`, `set site: ${expected} or rename the file`, 'site');
  }
  const release = opts.release ?? site.release;
  if (opts.release !== undefined && !/^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$/.test(opts.release)) {
    throw new InputError({ file: '--release' }, `"${opts.release}" is not a valid release`, 'use up to 20 of [0-9A-Za-z._-], starting with a letter or digit');
  }
  let volumeId: string;
  if (site.volumeId !== undefined) {
    if (!VOLID.test(site.volumeId)) {
      throw new InputError(
        y.pos(['volumeId']),
        `volume id "${site.volumeId}" is not valid for ISO9660`,
        'use at most 32 characters of A-Z, 0-9, _ and -, or remove volumeId to derive one',
        'volumeId',
      );
    }
    volumeId = site.volumeId;
  } else {
    volumeId = `XS-${site.site}-${release}`.toUpperCase().replace(/[^A-Z0-9_-]/g, '_').slice(0, 32);
  }
  const library: LoadedSite['library'] = [];
  const libs = site.library ?? [];
  for (let i = 0; i < libs.length; i++) {
    const where = y.pos(['library', i, 'source']);
    // Library content may live outside the project (a big content disk), so absolute
    // paths are allowed; relative ones stay inside the project.
    const source = path.isAbsolute(libs[i].source)
      ? libs[i].source
      : await insideRoot(root, libs[i].source, where, `library[${i}].source`);
    const st = await stat(source).catch(() => undefined);
    if (!st?.isDirectory()) throw new InputError(where, `library source "${libs[i].source}" is not a directory`, 'point it at a directory of content', `library[${i}].source`);
    if (library.some((l) => l.dest === libs[i].dest)) {
      throw new InputError(y.pos(['library', i, 'dest']), `library destination ${libs[i].dest} is used twice`, 'give each library its own dest', `library[${i}].dest`);
    }
    library.push({ source, dest: libs[i].dest });
  }
  return { ...y, root, release, volumeId, library };
}

async function findRoot(from: string): Promise<string> {
  for (let d = from; ; d = path.dirname(d)) {
    if (await stat(path.join(d, 'layers')).then((s) => s.isDirectory(), () => false)) return d;
    if (path.dirname(d) === d) return path.dirname(from);
  }
}
