// Reading the image manifest's file list (shape: builder/manifest-types.ts), with errors
// that name the manifest and the field.
import { MANIFEST_VERSION, type ManifestFile } from '../builder/manifest-types.js';

export function parseManifestFiles(text: string, where: string): ManifestFile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const m = raw as { manifestVersion?: unknown; files?: unknown };
  if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: must be a JSON object`);
  if (m.manifestVersion !== MANIFEST_VERSION) {
    throw new Error(`${where}: manifestVersion is ${JSON.stringify(m.manifestVersion)}, this agent reads ${MANIFEST_VERSION}; rebuild the image or update the agent`);
  }
  if (!Array.isArray(m.files)) throw new Error(`${where}: files: must be an array`);
  return m.files.map((f: unknown, i: number) => {
    const e = f as Partial<ManifestFile>;
    const at = `${where}: files[${i}]`;
    if (typeof e?.path !== 'string' || !e.path.startsWith('/')) throw new Error(`${at}.path: must be an absolute path`);
    if (e.path.split('/').some((seg) => seg === '..' || seg === '.')) throw new Error(`${at}.path: "${e.path}" must not contain "." or ".." segments`);
    if (typeof e.size !== 'number' || !Number.isInteger(e.size) || e.size < 0) throw new Error(`${at}.size: must be a non-negative integer`);
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw new Error(`${at}.sha256: must be 64 lower-case hex digits`);
    return { path: e.path, size: e.size, sha256: e.sha256 };
  });
}

/** Manifest files under `prefix`, with the path relative to it. */
export function libraryFiles(files: ManifestFile[], prefix: string): (ManifestFile & { rel: string })[] {
  const p = prefix === '/' ? '/' : `${prefix}/`;
  return files.filter((f) => f.path.startsWith(p)).map((f) => ({ ...f, rel: f.path.slice(p.length) }));
}
