// Paths from input never escape their root. Every user-supplied path goes through here.
import path from 'node:path';
import { realpath } from 'node:fs/promises';
import { InputError, type SourcePosition } from './errors.js';

/** Resolve `rel` inside `root`, refusing anything that climbs out (also through symlinks). */
export async function insideRoot(root: string, rel: string, where: SourcePosition, field: string): Promise<string> {
  const abs = path.resolve(root, rel);
  const hint = `use a path inside ${root}`;
  if (!isWithin(root, abs)) throw new InputError(where, `path "${rel}" escapes ${root}`, hint, field);
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    throw new InputError(where, `path "${rel}" does not exist`, 'create it or fix the path', field);
  }
  const realRoot = await realpath(root);
  if (!isWithin(realRoot, real)) throw new InputError(where, `path "${rel}" leads outside ${root} through a symlink`, hint, field);
  return real;
}

export function isWithin(root: string, p: string): boolean {
  const r = path.relative(root, p);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/** The xsbuild checkout this code runs from (dist/builder/paths.js → ../..). */
export const PROJECT_DIR = path.resolve(new URL('../..', import.meta.url).pathname);
