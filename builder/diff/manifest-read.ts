// Parse and check a manifest.json before anything trusts it: a diff built on a
// half-written or foreign manifest would be silently wrong, so every problem names the
// file and the field.
import { MANIFEST_VERSION, type Manifest } from '../manifest-types.js';
import { DiffError } from './errors.js';

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isSha: Check = (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

export function parseManifest(text: string, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DiffError(`${where}: not valid JSON (${(e as Error).message}). Rebuild the release, or pass the ISO instead.`);
  }
  const fail = (field: string, want: string): never => {
    throw new DiffError(`${where}: field "${field}" ${want}. The manifest is damaged or was not written by xsbuild; rebuild the release.`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('(top level)', 'must be an object');
  const m = data as Record<string, unknown>;
  if (m.manifestVersion !== MANIFEST_VERSION) {
    throw new DiffError(
      `${where}: manifestVersion is ${JSON.stringify(m.manifestVersion)}, this xsbuild reads version ${MANIFEST_VERSION}. ` +
        'Use the xsbuild release that built it, or rebuild the release with this one.',
    );
  }
  const need = (obj: Record<string, unknown>, path: string, key: string, check: Check, want: string): void => {
    if (!check(obj[key])) fail(`${path}${key}`, want);
  };
  for (const k of ['site', 'release', 'volumeId'] as const) need(m, '', k, isString, 'must be a string');
  need(m, '', 'sourceDateEpoch', isNumber, 'must be a number');
  const obj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  need(m, '', 'base', obj, 'must be an object');
  const base = m.base as Record<string, unknown>;
  for (const k of ['kind', 'version', 'sha256'] as const) need(base, 'base.', k, isString, 'must be a string');
  need(m, '', 'kickstart', obj, 'must be an object');
  need(m.kickstart as Record<string, unknown>, 'kickstart.', 'path', isString, 'must be a string');
  need(m.kickstart as Record<string, unknown>, 'kickstart.', 'sha256', isSha, 'must be 64 lowercase hex digits');
  const list = (key: string, each: (item: Record<string, unknown>, path: string) => void) => {
    if (!Array.isArray(m[key])) fail(key, 'must be an array');
    (m[key] as unknown[]).forEach((item, i) => {
      const path = `${key}[${i}].`;
      if (!obj(item)) fail(`${key}[${i}]`, 'must be an object');
      each(item as Record<string, unknown>, path);
    });
  };
  list('layers', (l, p) => {
    need(l, p, 'name', isString, 'must be a string');
    need(l, p, 'version', isString, 'must be a string');
    need(l, p, 'contentSha256', isString, 'must be a string');
  });
  list('bootEntries', (b, p) => {
    for (const k of ['config', 'label', 'kernel']) need(b, p, k, isString, 'must be a string');
    for (const k of ['initrd', 'args']) need(b, p, k, (v) => Array.isArray(v) && v.every(isString), 'must be an array of strings');
  });
  if (!Array.isArray(m.packages) || !m.packages.every(isString)) fail('packages', 'must be an array of strings');
  list('library', (l, p) => {
    need(l, p, 'dest', isString, 'must be a string');
    need(l, p, 'files', isNumber, 'must be a number');
    need(l, p, 'bytes', isNumber, 'must be a number');
  });
  list('files', (f, p) => {
    need(f, p, 'path', (v) => isString(v) && (v as string).startsWith('/'), 'must be an absolute path ("/...")');
    need(f, p, 'size', isNumber, 'must be a number');
    need(f, p, 'sha256', isSha, 'must be 64 lowercase hex digits');
  });
  if (!obj(m.tools)) fail('tools', 'must be an object');
  if (m.iso !== undefined) {
    need(m, '', 'iso', obj, 'must be an object');
    const iso = m.iso as Record<string, unknown>;
    need(iso, 'iso.', 'name', isString, 'must be a string');
    need(iso, 'iso.', 'size', isNumber, 'must be a number');
    need(iso, 'iso.', 'sha256', isString, 'must be a string');
  }
  return data as Manifest;
}
