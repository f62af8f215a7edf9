// Checks across the layers a site uses, after they are resolved: where their files land
// on the target and on the media, and what their sources are.
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { InputError, type SourcePosition } from '../errors.js';
import type { LoadedSite } from '../site.js';
import type { ResolvedLayers } from '../layers.js';
import { siteRepoName } from '../repos.js';
import { SYSTEM_TREES, VOLATILE_TREES, mediaOwnedPaths, spellingProblem, within } from './trees.js';

type Kind = 'files' | 'media';

interface Entry {
  kind: Kind;
  layer: string;
  index: number;
  dest: string;
  where: SourcePosition;
  field: string;
}

export async function checkLayerRules(site: LoadedSite, layers: ResolvedLayers): Promise<InputError[]> {
  const out: InputError[] = [];
  const entries: Entry[] = [];
  const owned = mediaOwnedPaths(siteRepoName(site));
  const libraries = site.library.map((l) => l.dest);
  for (const l of layers.layers) {
    // Kickstart fragments are read as templates: each must be a file.
    for (const [f, rel] of Object.entries(l.layer.kickstart ?? {})) {
      if (rel === undefined) continue;
      const st = await stat(path.join(l.dir, rel)).catch(() => undefined);
      if (st && !st.isFile()) {
        out.push(new InputError(l.pos(['kickstart', f]), `"${rel}" is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a template`, 'name the template file, e.g. kickstart/post.ks.hbs', `kickstart.${f}`));
      }
    }
    for (const kind of ['files', 'media'] as const) {
      const list = l.layer[kind] ?? [];
      for (let i = 0; i < list.length; i++) {
        const e = list[i];
        const field = `${kind}[${i}].dest`;
        const where = l.pos([kind, i, 'dest']);
        const bad = (problem: string, hint: string) => out.push(new InputError(where, problem, hint, field));
        const spelling = spellingProblem(e.dest);
        if (spelling) {
          bad(`${e.dest} ${spelling.problem}; a layer file needs the full path of a file`, spelling.fix && spelling.problem.startsWith('is not') ? `write it as ${spelling.fix}` : `name the file, e.g. ${spelling.fix ?? ''}/${path.posix.basename(e.src ?? 'file')}`);
          continue;
        }
        if (kind === 'files') {
          if (SYSTEM_TREES.includes(e.dest)) {
            bad(`${e.dest} is a directory of the target system; the file would replace it`, `name a file inside it, e.g. ${e.dest}/${path.posix.basename(e.src ?? 'file')}`);
            continue;
          }
          const volatile = VOLATILE_TREES.find((t) => within(e.dest, t));
          if (volatile) {
            bad(`${e.dest} is under ${volatile}, which the running system mounts over: the file would never be seen`, 'install it on disk (e.g. under /etc or /usr/lib) and create runtime files from a systemd unit or tmpfiles.d');
            continue;
          }
          const lib = libraries.find((d) => within(e.dest, d) || within(d, e.dest));
          if (lib) {
            bad(`${e.dest} overlaps the site's library destination ${lib}, which the library copy writes`, 'put the file outside the library directories, or ship it as library content');
            continue;
          }
        } else {
          const media = owned.find((t) => within(e.dest, t) || within(t, e.dest));
          if (media) {
            bad(`${e.dest} overlaps ${media} on the install media, which the base or xsbuild writes`, 'put media files in a directory of their own, e.g. /xsbuild/<layer>/ or /extras/');
            continue;
          }
          const lib = libraries.find((d) => within(e.dest, d) || within(d, e.dest));
          if (lib) {
            bad(`${e.dest} overlaps the site's library destination ${lib} on the install media`, 'put the file outside the library directories');
            continue;
          }
        }
        if (e.src !== undefined) {
          // resolveLayers has checked the path stays inside the layer and exists.
          const src = path.join(l.dir, e.src);
          const st = await stat(src).catch(() => undefined);
          if (st && !st.isFile()) {
            out.push(new InputError(l.pos([kind, i, 'src']), `src "${e.src}" is ${st.isDirectory() ? 'a directory' : 'not a regular file'}; an entry ships one file`, st.isDirectory() ? 'list each file as its own entry (or ship a directory tree as library content)' : 'point src at a regular file', `${kind}[${i}].src`));
            continue;
          }
        }
        entries.push({ kind, layer: l.name, index: i, dest: e.dest, where, field });
      }
    }
  }
  // A path that is a file for one entry and a directory for another cannot be both.
  for (const kind of ['files', 'media'] as const) {
    const mine = entries.filter((e) => e.kind === kind).sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
    const byDest = new Map(mine.map((e) => [e.dest, e]));
    for (const e of mine) {
      for (let d = path.posix.dirname(e.dest); d !== '/'; d = path.posix.dirname(d)) {
        const parent = byDest.get(d);
        if (!parent) continue;
        const p = parent.where;
        out.push(new InputError(e.where, `${e.dest} lies inside ${d}, which layer "${parent.layer}" writes as a file (${p.file}:${p.line}:${p.col}, ${parent.field})`, 'a path is either a file or a directory: rename one of them', e.field));
        break;
      }
    }
  }
  return out;
}
