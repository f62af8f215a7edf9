// Sealed per-host files for `xsbuild publish --private DIR --recipients FILE`.
//
//   DIR/<hostname>/<absolute target path>   a file for that host only, e.g.
//                                           DIR/xs-a/etc/xs/activation.lease
//   DIR/<hostname>/.xs-private.yaml         optional: mode, owner, group per target path
//                                           (default 0600 root:root), e.g.
//                                             /etc/xs/activation.lease: { mode: "0640", group: xs }
//
// Each file is age-encrypted to the host's seal key from the recipients file (written by
// `xsbuild fleet recipients`); only the ciphertext is chunked into the repository, and
// the signed release lists it as `sealed` with the plaintext's size and sha256. A host
// in DIR that is not in the recipients file (not approved yet) is skipped with a
// warning: its files go out in the first release after its approval. The plaintext is
// never written anywhere, and no message shows it.
//
// age output is random, so an unchanged file (same content, mode, owner, group and
// recipient) keeps the previous release's ciphertext: publishing unchanged inputs writes
// no new release.
import path from 'node:path';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { Encrypter } from 'age-encryption';
import { Type } from '@sinclair/typebox';
import { chunkBuffer } from '../../agent/pull/chunker.js';
import { sha256hex } from '../../agent/pull/chunks.js';
import { MAX_SEALED_SIZE, type ReleaseDoc, type SealedFile } from '../../agent/pull/format.js';
import type { RecipientsFile } from '../../agent/fleet/wire.js';
import { InputError } from '../errors.js';
import { parseYaml } from '../yamlfile.js';

export const PRIVATE_META = '.xs-private.yaml';
export const DEFAULT_SEALED = { mode: '0600', owner: 'root', group: 'root' } as const;

const HOST = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const ED25519 = /^[A-Za-z0-9+/]{43}=$/;
const ACCOUNT = '^(?:[a-z_][a-z0-9_-]{0,31}|\\d{1,10})$';

const MetaSchema = Type.Record(
  Type.String({ pattern: '^/' }),
  Type.Object(
    {
      mode: Type.Optional(Type.String({ pattern: '^0[0-7]{3}$', description: 'e.g. "0640"' })),
      owner: Type.Optional(Type.String({ pattern: ACCOUNT })),
      group: Type.Optional(Type.String({ pattern: ACCOUNT })),
    },
    { additionalProperties: false },
  ),
);

/** The recipients file, checked field by field (errors name the file and field). */
export async function readRecipients(file: string, site: string): Promise<RecipientsFile> {
  const bad = (field: string, problem: string, hint = 'write it with `xsbuild fleet recipients <site> --out FILE`'): never => {
    throw new InputError({ file }, problem, hint, field);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    bad('', code ? `cannot read file (${code})` : `not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (o._type !== 'xs-recipients') bad('_type', 'must be "xs-recipients" (is this a recipients file?)');
  if (o.site !== site) bad('site', `is "${String(o.site)}", publishing site "${site}"`, 'use the recipients file of this site');
  if (typeof o.hosts !== 'object' || o.hosts === null || Array.isArray(o.hosts)) bad('hosts', 'must be an object: host name -> { sealKey, signingKey }');
  const hosts: RecipientsFile['hosts'] = {};
  for (const [h, v] of Object.entries(o.hosts as Record<string, unknown>)) {
    if (!HOST.test(h)) bad(`hosts.${h}`, `"${h}" is not a host name`);
    const e = v as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) bad(`hosts.${h}`, 'must be an object { sealKey, signingKey }');
    if (typeof e!.sealKey !== 'string' || !AGE_RECIPIENT.test(e!.sealKey)) bad(`hosts.${h}.sealKey`, 'must be an age recipient ("age1...")');
    if (typeof e!.signingKey !== 'string' || !ED25519.test(e!.signingKey)) bad(`hosts.${h}.signingKey`, 'must be an Ed25519 public key (base64 of 32 bytes)');
    hosts[h] = { sealKey: e!.sealKey as string, signingKey: e!.signingKey as string };
  }
  return { _type: 'xs-recipients', site, hosts };
}

interface PrivateFile {
  host: string;
  path: string;
  source: string;
  mode: string;
  owner: string;
  group: string;
}

/** Every host's files under DIR, with their mode/owner/group. */
export async function readPrivateDir(dir: string): Promise<Map<string, PrivateFile[]>> {
  const out = new Map<string, PrivateFile[]>();
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new InputError({ file: dir }, `--private: cannot read directory (${e.code})`, 'give a directory holding one folder per host name');
  });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const hostDir = path.join(dir, e.name);
    if (!e.isDirectory()) throw new InputError({ file: hostDir }, 'not a directory', `--private DIR holds one folder per host name (DIR/<hostname>/<target path>); move this file into a host's folder`);
    if (!HOST.test(e.name)) throw new InputError({ file: hostDir }, `"${e.name}" is not a host name`, 'name the folder after the host (lower-case letters, digits, hyphens)');
    const files: PrivateFile[] = [];
    await walk(hostDir, '', files, e.name);
    const metaFile = path.join(hostDir, PRIVATE_META);
    const metaText = await readFile(metaFile, 'utf8').catch(() => undefined);
    if (metaText !== undefined) {
      const meta = metaText.trim() === '' ? {} : parseYaml(metaText, MetaSchema, metaFile).data;
      const byPath = new Map(files.map((f) => [f.path, f]));
      for (const [p, m] of Object.entries(meta)) {
        const f = byPath.get(p);
        if (!f) throw new InputError({ file: metaFile }, `${p}: no such file in ${hostDir}`, `put the file at ${path.join(hostDir, p)}, or remove this entry`, p);
        Object.assign(f, Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)));
      }
    }
    out.set(e.name, files);
  }
  return out;
}

async function walk(hostDir: string, rel: string, out: PrivateFile[], host: string): Promise<void> {
  const dir = path.join(hostDir, rel);
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = path.posix.join(rel, e.name);
    if (rel === '' && e.name === PRIVATE_META) continue;
    const full = path.join(hostDir, r);
    if (e.isDirectory()) await walk(hostDir, r, out, host);
    else if (e.isFile()) {
      const st = await lstat(full);
      if (st.size > MAX_SEALED_SIZE) throw new InputError({ file: full }, `${st.size} bytes is more than a sealed file may have (${MAX_SEALED_SIZE})`, 'ship large content as a layer or library file instead');
      if (!/^[A-Za-z0-9._/+@-]+$/.test(r)) throw new InputError({ file: full }, 'the target path has characters a release path may not have', 'use letters, digits and . _ - + @ only');
      out.push({ host, path: `/${r}`, source: full, ...DEFAULT_SEALED });
    } else throw new InputError({ file: full }, 'not a regular file or directory (symlink, device...)', 'put the file itself there');
  }
}

export interface SealResult {
  sealed: SealedFile[];
  /** Hosts in DIR without a recipient (not approved yet). */
  skipped: string[];
}

/**
 * Seal every approved host's files. `store` puts a ciphertext chunk into the repository.
 * Entries of the previous release are kept when nothing about them changed.
 */
export async function sealPrivateFiles(dir: string, recipients: RecipientsFile, prev: ReleaseDoc | undefined, store: (id: string, data: Uint8Array) => Promise<void>, warn: (m: string) => void): Promise<SealResult> {
  const byHost = await readPrivateDir(dir);
  const before = new Map((prev?.sealed ?? []).map((s) => [`${s.host}\0${s.path}`, s]));
  const sealed: SealedFile[] = [];
  const skipped: string[] = [];
  for (const [host, files] of byHost) {
    const r = recipients.hosts[host];
    if (!r) {
      skipped.push(host);
      warn(`--private: ${host} is not in the recipients file (not approved yet): its ${files.length} file${files.length === 1 ? '' : 's'} go out in the first release after its approval`);
      continue;
    }
    for (const f of files) {
      const data = await readFile(f.source);
      const sha256 = sha256hex(data);
      const old = before.get(`${host}\0${f.path}`);
      if (old && old.recipient === r.sealKey && old.sha256 === sha256 && old.size === data.length && old.mode === f.mode && old.owner === f.owner && old.group === f.group) {
        sealed.push(old);
        continue;
      }
      const enc = new Encrypter();
      enc.addRecipient(r.sealKey);
      const blob = await enc.encrypt(data);
      const c = chunkBuffer(blob);
      let off = 0;
      for (const x of c.chunks) {
        await store(x.id, blob.subarray(off, off + x.size));
        off += x.size;
      }
      sealed.push({
        host, path: f.path, mode: f.mode, owner: f.owner, group: f.group, size: data.length, sha256,
        blob: { size: c.size, sha256: c.sha256, chunks: c.chunks.map((x) => [x.id, x.size]) },
        recipient: r.sealKey,
      });
    }
  }
  return { sealed, skipped };
}
