// The update repository format, shared by the publisher and the agent. A repository (or
// a bundle on a stick, which has the same layout) is plain files any HTTP server, object
// store or FAT-formatted stick can hold:
//
//   root.json                    current root of trust (also roots/<n>.root.json, n = 1..)
//   roots/<n>.root.json          every root version: a new root is signed by the old keys
//   release.json                 the newest release (also releases/<n>.release.json)
//   releases/<n>.release.json    every release, for bundles --since and history
//   chunks/<ab>/<sha256>.chk     content, cut by content-defined chunking, named by sha256
//   releases/<n>.deltas.json     optional, signed: chunks of release n that can be rebuilt
//                                from chunks a server already has (base) plus a delta
//   deltas/<ab>/<sha256>.dlt     chunk deltas (agent/pull/delta.ts), named by their sha256
//   bundle.json                  bundles only: what the bundle holds (not trusted)
//   reports/<host>.json          bundles only: signed reports written by servers
//
// Names are lower-case, short and colon-free, so the same tree works on FAT and a CDN.
// Everything here parses *untrusted* input: a document is checked field by field before
// any of it is used, and errors name the document and the field.
import type { Envelope } from './sign.js';
import type { SealedFile } from '../fleet/wire.js';
import { MAX_CHUNK } from './chunker.js';

export type { SealedFile };

/** Largest sealed file (plaintext): the agent decrypts it in memory. */
export const MAX_SEALED_SIZE = 64 * 1024 * 1024;

export const SPEC = 1;

export interface RootDoc {
  _type: 'xs-root';
  spec: number;
  site: string;
  version: number;
  expires: string;
  /** keyid -> Ed25519 public key (base64 of the raw 32 bytes). */
  keys: Record<string, string>;
  threshold: number;
}

/** A file's content: size, sha256 and its chunks as [sha256, size] in order. */
export interface FileRef {
  size: number;
  sha256: string;
  chunks: [string, number][];
}

export interface ReleaseFile extends FileRef {
  /** Absolute target path (layer files) or path relative to the library's dest. */
  path: string;
  mode: string;
}

export interface ReleaseLayer {
  name: string;
  version: string;
  packages: string[];
  files: ReleaseFile[];
  /** Shell script run once per release version (the layer's %post, rendered). */
  script?: FileRef;
}

export interface ReleaseDoc {
  _type: 'xs-release';
  spec: number;
  site: string;
  /** Monotonic release number: 1, 2, ... */
  version: number;
  /** The site's release name (sites/<site>.yaml `release`). */
  release: string;
  created: string;
  expires: string;
  layers: ReleaseLayer[];
  library: { dest: string; files: ReleaseFile[] }[];
  /** A package repository (e.g. createrepo or apt output) shipped with the release. */
  repo?: { files: ReleaseFile[] };
  /** Per-host files, each age-encrypted to that host's seal key (agent/fleet/wire.ts). */
  sealed?: SealedFile[];
}

/**
 * A chunk of the release that can be rebuilt from `base` (chunks of an earlier release,
 * concatenated) and the delta file `delta`. The rebuilt bytes are only used when their
 * sha256 is the chunk id from the signed release; the delta itself is never trusted.
 */
export interface DeltaEntry {
  chunk: string;
  size: number;
  delta: string;
  deltaSize: number;
  base: [string, number][];
}

/**
 * releases/<n>.deltas.json, signed like a release and bound to it by the sha256 of the
 * release's canonical JSON. A separate document so the release format (and agents that
 * predate deltas) stay as they are; a server that cannot use it fetches whole chunks.
 */
export interface DeltasDoc {
  _type: 'xs-deltas';
  spec: number;
  site: string;
  version: number;
  /** sha256 of canonical(release n's signed document). */
  release: string;
  deltas: DeltaEntry[];
}

export interface BundleInfo {
  _type: 'xs-bundle';
  site: string;
  version: number;
  since: number | null;
  chunks: number;
  /** Chunks the bundle carries as deltas against chunks the school has. */
  deltas?: number;
  bytes: number;
  created: string;
}

export const ROOT_FILE = 'root.json';
export const RELEASE_FILE = 'release.json';
export const BUNDLE_FILE = 'bundle.json';
export const rootPath = (n: number) => `roots/${n}.root.json`;
export const releasePath = (n: number) => `releases/${n}.release.json`;
export const chunkPath = (id: string) => `chunks/${id.slice(0, 2)}/${id}.chk`;
export const deltasPath = (n: number) => `releases/${n}.deltas.json`;
export const deltaPath = (id: string) => `deltas/${id.slice(0, 2)}/${id}.dlt`;
export const reportPath = (host: string) => `reports/${host}.json`;

export class FormatError extends Error {
  constructor(readonly doc: string, readonly field: string, detail: string) {
    super(`${doc}: ${field ? `${field}: ` : ''}${detail}`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const ABS = /^\/(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/+@-]+$/;
const REL = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\0\\]+$/;
const MODE = /^0[0-7]{3}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

class Check {
  constructor(readonly doc: string) {}
  fail(field: string, detail: string): never {
    throw new FormatError(this.doc, field, detail);
  }
  obj(v: unknown, f: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(f, 'must be an object');
    return v as Record<string, unknown>;
  }
  arr(v: unknown, f: string): unknown[] {
    if (!Array.isArray(v)) this.fail(f, 'must be an array');
    return v;
  }
  str(v: unknown, f: string, re?: RegExp, what = 'a valid value'): string {
    if (typeof v !== 'string') this.fail(f, 'must be a string');
    if (re && !re.test(v)) this.fail(f, `"${v.slice(0, 80)}" is not ${what}`);
    return v;
  }
  int(v: unknown, f: string, min = 0): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(f, `must be an integer >= ${min}`);
    return v;
  }
  time(v: unknown, f: string): string {
    const s = this.str(v, f, ISO, 'an ISO 8601 UTC time');
    if (Number.isNaN(Date.parse(s))) this.fail(f, `"${s}" is not a time`);
    return s;
  }
}

export function parseEnvelope(text: string, doc: string): Envelope<unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FormatError(doc, '', `not valid JSON (${(e as Error).message})`);
  }
  const c = new Check(doc);
  const o = c.obj(raw, '');
  const sigs = c.arr(o.signatures, 'signatures').map((s, i) => {
    const so = c.obj(s, `signatures[${i}]`);
    return { keyid: c.str(so.keyid, `signatures[${i}].keyid`, HEX64, 'a key id'), sig: c.str(so.sig, `signatures[${i}].sig`) };
  });
  c.obj(o.signed, 'signed');
  return { signed: o.signed, signatures: sigs };
}

export function checkRoot(v: unknown, doc: string): RootDoc {
  const c = new Check(doc);
  const o = c.obj(v, 'signed');
  if (o._type !== 'xs-root') c.fail('signed._type', 'must be "xs-root" (is this a root file?)');
  if (o.spec !== SPEC) c.fail('signed.spec', `format ${String(o.spec)} is not supported (this agent reads ${SPEC}); update the agent first`);
  const keys = c.obj(o.keys, 'signed.keys');
  const out: Record<string, string> = {};
  for (const [id, pub] of Object.entries(keys)) {
    c.str(id, 'signed.keys', HEX64, 'a key id');
    out[id] = c.str(pub, `signed.keys.${id.slice(0, 8)}`, /^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key');
  }
  const threshold = c.int(o.threshold, 'signed.threshold', 1);
  if (threshold > Object.keys(out).length) c.fail('signed.threshold', `${threshold} is more than the ${Object.keys(out).length} keys listed`);
  return {
    _type: 'xs-root', spec: SPEC,
    site: c.str(o.site, 'signed.site', /^[a-z0-9][a-z0-9-]*$/, 'a site name'),
    version: c.int(o.version, 'signed.version', 1),
    expires: c.time(o.expires, 'signed.expires'),
    keys: out, threshold,
  };
}

function checkRef(c: Check, v: Record<string, unknown>, f: string): FileRef {
  const size = c.int(v.size, `${f}.size`);
  const sha256 = c.str(v.sha256, `${f}.sha256`, HEX64, 'a sha256');
  let sum = 0;
  const chunks = c.arr(v.chunks, `${f}.chunks`).map((x, i) => {
    const a = c.arr(x, `${f}.chunks[${i}]`);
    const id = c.str(a[0], `${f}.chunks[${i}][0]`, HEX64, 'a chunk id');
    const n = c.int(a[1], `${f}.chunks[${i}][1]`, 1);
    if (n > MAX_CHUNK) c.fail(`${f}.chunks[${i}][1]`, `chunk of ${n} bytes is larger than ${MAX_CHUNK}`);
    sum += n;
    return [id, n] as [string, number];
  });
  if (sum !== size) c.fail(`${f}.chunks`, `chunk sizes add up to ${sum}, not the file size ${size}`);
  return { size, sha256, chunks };
}

function checkFile(c: Check, v: unknown, f: string, abs: boolean): ReleaseFile {
  const o = c.obj(v, f);
  return {
    path: abs ? c.str(o.path, `${f}.path`, ABS, 'an absolute path without ".."') : c.str(o.path, `${f}.path`, REL, 'a relative path without ".."'),
    mode: c.str(o.mode, `${f}.mode`, MODE, 'a mode like 0644'),
    ...checkRef(c, o, f),
  };
}

export function checkRelease(v: unknown, doc: string): ReleaseDoc {
  const c = new Check(doc);
  const o = c.obj(v, 'signed');
  if (o._type !== 'xs-release') c.fail('signed._type', 'must be "xs-release" (is this a release file?)');
  if (o.spec !== SPEC) c.fail('signed.spec', `format ${String(o.spec)} is not supported (this agent reads ${SPEC}); update the agent first`);
  const layers = c.arr(o.layers, 'signed.layers').map((x, i) => {
    const f = `signed.layers[${i}]`;
    const l = c.obj(x, f);
    const out: ReleaseLayer = {
      name: c.str(l.name, `${f}.name`, /^[a-z0-9][a-z0-9-]*$/, 'a layer name'),
      version: c.str(l.version, `${f}.version`),
      packages: c.arr(l.packages, `${f}.packages`).map((p, j) => c.str(p, `${f}.packages[${j}]`, /^[@A-Za-z0-9][A-Za-z0-9._+-]*$/, 'a package name')),
      files: c.arr(l.files, `${f}.files`).map((y, j) => checkFile(c, y, `${f}.files[${j}]`, true)),
    };
    if (l.script !== undefined) out.script = checkRef(c, c.obj(l.script, `${f}.script`), `${f}.script`);
    return out;
  });
  const library = c.arr(o.library, 'signed.library').map((x, i) => {
    const f = `signed.library[${i}]`;
    const l = c.obj(x, f);
    return { dest: c.str(l.dest, `${f}.dest`, ABS, 'an absolute path'), files: c.arr(l.files, `${f}.files`).map((y, j) => checkFile(c, y, `${f}.files[${j}]`, false)) };
  });
  const out: ReleaseDoc = {
    _type: 'xs-release', spec: SPEC,
    site: c.str(o.site, 'signed.site', /^[a-z0-9][a-z0-9-]*$/, 'a site name'),
    version: c.int(o.version, 'signed.version', 1),
    release: c.str(o.release, 'signed.release'),
    created: c.time(o.created, 'signed.created'),
    expires: c.time(o.expires, 'signed.expires'),
    layers, library,
  };
  if (o.repo !== undefined) {
    const r = c.obj(o.repo, 'signed.repo');
    out.repo = { files: c.arr(r.files, 'signed.repo.files').map((y, j) => checkFile(c, y, `signed.repo.files[${j}]`, false)) };
  }
  if (o.sealed !== undefined) {
    out.sealed = checkSealed(c, o.sealed);
    // A path is placed by one thing only: a sealed file never replaces a layer or library file.
    const placed = new Set([...layers.flatMap((l) => l.files.map((f) => f.path)), ...library.flatMap((l) => l.files.map((f) => `${l.dest.replace(/\/$/, '')}/${f.path}`))]);
    out.sealed.forEach((s, i) => placed.has(s.path) && c.fail(`signed.sealed[${i}].path`, `${s.path} is also a layer or library file of the release`));
  }
  return out;
}

const HOST = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const ACCOUNT = /^(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10})$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

function checkSealed(c: Check, v: unknown): SealedFile[] {
  const seen = new Set<string>();
  return c.arr(v, 'signed.sealed').map((x, i) => {
    const f = `signed.sealed[${i}]`;
    const o = c.obj(x, f);
    const known = ['host', 'path', 'mode', 'owner', 'group', 'size', 'sha256', 'blob', 'recipient'];
    for (const k of Object.keys(o)) if (!known.includes(k)) c.fail(`${f}.${k}`, `unknown field (known: ${known.join(', ')})`);
    const host = c.str(o.host, `${f}.host`, HOST, 'a host name');
    const p = c.str(o.path, `${f}.path`, ABS, 'an absolute path without ".."');
    if (seen.has(`${host}\0${p}`)) c.fail(`${f}.path`, `${p} is listed twice for host ${host}`);
    seen.add(`${host}\0${p}`);
    const size = c.int(o.size, `${f}.size`);
    if (size > MAX_SEALED_SIZE) c.fail(`${f}.size`, `${size} bytes is more than the ${MAX_SEALED_SIZE} a sealed file may have`);
    const blobObj = c.obj(o.blob, `${f}.blob`);
    for (const k of Object.keys(blobObj)) if (!['size', 'sha256', 'chunks'].includes(k)) c.fail(`${f}.blob.${k}`, 'unknown field (known: size, sha256, chunks)');
    const blob = checkRef(c, blobObj, `${f}.blob`);
    // age adds a header and 16 bytes per 64 KiB; far more than that is not a sealed file.
    if (blob.size > size + 65536 + Math.ceil(size / 65536) * 16) c.fail(`${f}.blob.size`, `${blob.size} bytes is too large for a ${size}-byte file`);
    const out: SealedFile = {
      host, path: p,
      mode: c.str(o.mode, `${f}.mode`, MODE, 'a mode like 0600'),
      owner: c.str(o.owner, `${f}.owner`, ACCOUNT, 'a user name or uid'),
      group: c.str(o.group, `${f}.group`, ACCOUNT, 'a group name or gid'),
      size,
      sha256: c.str(o.sha256, `${f}.sha256`, HEX64, 'a sha256'),
      blob,
    };
    if (o.recipient !== undefined) out.recipient = c.str(o.recipient, `${f}.recipient`, AGE_RECIPIENT, 'an age recipient (age1...)');
    return out;
  });
}

export function checkDeltas(v: unknown, doc: string): DeltasDoc {
  const c = new Check(doc);
  const o = c.obj(v, 'signed');
  if (o._type !== 'xs-deltas') c.fail('signed._type', 'must be "xs-deltas" (is this a deltas file?)');
  if (o.spec !== SPEC) c.fail('signed.spec', `format ${String(o.spec)} is not supported (this agent reads ${SPEC})`);
  const deltas = c.arr(o.deltas, 'signed.deltas').map((x, i) => {
    const f = `signed.deltas[${i}]`;
    const e = c.obj(x, f);
    const size = c.int(e.size, `${f}.size`, 1);
    if (size > MAX_CHUNK) c.fail(`${f}.size`, `chunk of ${size} bytes is larger than ${MAX_CHUNK}`);
    const base = c.arr(e.base, `${f}.base`).map((y, j) => {
      const a = c.arr(y, `${f}.base[${j}]`);
      const n = c.int(a[1], `${f}.base[${j}][1]`, 1);
      if (n > MAX_CHUNK) c.fail(`${f}.base[${j}][1]`, `chunk of ${n} bytes is larger than ${MAX_CHUNK}`);
      return [c.str(a[0], `${f}.base[${j}][0]`, HEX64, 'a chunk id'), n] as [string, number];
    });
    if (base.length === 0 || base.length > 8) c.fail(`${f}.base`, 'must list 1 to 8 chunks');
    const deltaSize = c.int(e.deltaSize, `${f}.deltaSize`, 1);
    // A delta larger than its chunk saves nothing and is never published: refuse it
    // rather than read that many bytes.
    if (deltaSize > size) c.fail(`${f}.deltaSize`, `delta of ${deltaSize} bytes is larger than its chunk (${size})`);
    return {
      chunk: c.str(e.chunk, `${f}.chunk`, HEX64, 'a chunk id'),
      size,
      delta: c.str(e.delta, `${f}.delta`, HEX64, 'a sha256'),
      deltaSize,
      base,
    };
  });
  return {
    _type: 'xs-deltas', spec: SPEC,
    site: c.str(o.site, 'signed.site', /^[a-z0-9][a-z0-9-]*$/, 'a site name'),
    version: c.int(o.version, 'signed.version', 1),
    release: c.str(o.release, 'signed.release', HEX64, 'a sha256'),
    deltas,
  };
}

/** Every chunk id a release needs, with its size. */
export function releaseChunks(r: ReleaseDoc): Map<string, number> {
  const m = new Map<string, number>();
  const add = (f: FileRef) => {
    for (const [id, n] of f.chunks) m.set(id, n);
  };
  for (const l of r.layers) {
    l.files.forEach(add);
    if (l.script) add(l.script);
  }
  for (const l of r.library) l.files.forEach(add);
  r.repo?.files.forEach(add);
  // Every host's sealed blobs: a bundle carries them all (each opens only on its host).
  for (const s of r.sealed ?? []) add(s.blob);
  return m;
}
