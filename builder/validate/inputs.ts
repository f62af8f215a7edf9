// Inputs on disk that a build reads late (the base, the site repository's RPMs), checked
// when the site is validated: `xsbuild validate` answers for them without mastering.
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { LoadedSite } from '../site.js';
import type { ResolvedLayers } from '../layers.js';
import { collectRpms } from '../repos.js';

/** The base ISO is a file, the base tree a directory (the ISO's sha256 is checked when building). */
export async function checkBaseOnDisk(site: LoadedSite): Promise<InputError[]> {
  const base = site.data.base;
  if (typeof base === 'string') return [];
  if ('iso' in base) {
    const file = path.resolve(site.root, base.iso);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return [new InputError(site.pos(['base', 'iso']), `base ISO "${base.iso}" ${st ? 'is not a file' : 'does not exist'} (looked for ${file})`, 'give the path of the installer ISO, relative to the project root or absolute', 'base.iso')];
  } else {
    const dir = path.resolve(site.root, base.tree);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return [new InputError(site.pos(['base', 'tree']), `base tree "${base.tree}" is not a directory (looked for ${dir})`, 'give the path of an exploded installer tree (with .treeinfo, images/, isolinux/, EFI/)', 'base.tree')];
  }
  return [];
}

/** The layers' `rpms` and the site's `rpmDirs` name RPM files or directories of them. */
export async function checkRpmsOnDisk(site: LoadedSite, layers: ResolvedLayers): Promise<void> {
  await collectRpms(site, layers);
}
