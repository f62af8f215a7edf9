// What is known about a file, remembered by the file's identity: (device, inode, size,
// mtime, ctime). A library file that has not changed is then never read again, by the
// build or by `publish`, and a changed one is (any write moves mtime and ctime, and a
// replaced file has another inode). Stored per namespace as one JSON file under
// .cache/files/, written atomically; losing it costs a re-read, never a wrong answer.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { filesUnder } from '../../lib/tree.js';
import type { BigIntStats } from 'node:fs';
import { sha256File } from '../../lib/hash.js';

const FORMAT = 1;

/** dev, ino, size, mtimeNs, ctimeNs as decimal strings (bigints do not fit a double). */
export type Identity = [string, string, string, string, string];

interface Stored<T> {
  format: number;
  entries: Record<string, [Identity, T]>;
}

export function identityOf(st: BigIntStats): Identity {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].map(String) as Identity;
}

const same = (a: Identity, b: Identity) => a.every((x, i) => x === b[i]);

export class IdentityCache<T> {
  private entries = new Map<string, [Identity, T]>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  /** `.cache/files/<namespace>.json`; an unreadable or foreign file counts as empty. */
  static async open<T>(cacheDir: string, namespace: string): Promise<IdentityCache<T>> {
    const c = new IdentityCache<T>(path.join(cacheDir, 'files', `${namespace}.json`));
    // A damaged file (a torn write, a full disk) must not be fatal: JSON.parse throwing
    // inside then() is not caught by its second argument.
    const stored = await readFile(c.file, 'utf8').then((t) => JSON.parse(t) as Stored<T>).catch(() => undefined);
    if (stored?.format === FORMAT && stored.entries && typeof stored.entries === 'object') {
      for (const [k, v] of Object.entries(stored.entries)) c.entries.set(k, v);
    }
    return c;
  }

  /** The value remembered for this file, if the file is still the one it was taken from. */
  async get(file: string): Promise<{ value?: T; identity: Identity }> {
    const identity = identityOf(await lstat(file, { bigint: true }));
    const hit = this.entries.get(path.resolve(file));
    return hit && same(hit[0], identity) ? { value: hit[1], identity } : { identity };
  }

  /** Remember a value taken from the file while it had `identity` (stat it before reading). */
  set(file: string, identity: Identity, value: T): void {
    this.entries.set(path.resolve(file), [identity, value]);
    this.dirty = true;
  }

  /**
   * The file's ctime moved because of our own hard links (the netboot tree links the
   * library), not its content: keep what is known when the rest of the identity is as it
   * was remembered. Call after the links are made and the old output is removed.
   */
  async relinked(files: Iterable<string>): Promise<void> {
    for (const f of files) {
      const key = path.resolve(f);
      const hit = this.entries.get(key);
      if (!hit) continue;
      const now = identityOf(await lstat(key, { bigint: true }).catch(() => undefined) ?? ({} as BigIntStats));
      if (now.slice(0, 4).every((x, i) => x === hit[0][i]) && now[4] !== hit[0][4]) {
        this.entries.set(key, [now, hit[1]]);
        this.dirty = true;
      }
    }
  }

  /** Forget files under dir (a build's temp dir: those paths never come back). */
  forgetUnder(dir: string): void {
    const prefix = path.resolve(dir) + path.sep;
    for (const k of this.entries.keys()) {
      if (k.startsWith(prefix)) {
        this.entries.delete(k);
        this.dirty = true;
      }
    }
  }

  /** Forget files that no longer exist (`xsbuild cache prune`); returns how many. */
  async forgetMissing(): Promise<number> {
    let n = 0;
    for (const k of [...this.entries.keys()]) {
      if (!(await lstat(k).then(() => true, () => false))) {
        this.entries.delete(k);
        n++;
      }
    }
    if (n) this.dirty = true;
    return n;
  }

  /** Writes the cache if anything changed (temp file, then rename). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out: Stored<T> = { format: FORMAT, entries: Object.fromEntries(this.entries) };
    await writeFile(tmp, JSON.stringify(out));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

/** A file's sha256, read only when the cache does not know the file as it is now. */
export async function knownSha256(cache: IdentityCache<string>, file: string): Promise<string> {
  const { value, identity } = await cache.get(file);
  if (value) return value;
  const sha = await sha256File(file);
  cache.set(file, identity, sha);
  return sha;
}

/**
 * A digest of a directory tree that depends only on relative paths and bytes, from each
 * file's sha256 as the cache knows it: a multi-GiB install tree is read once, not on
 * every build.
 */
export async function treeDigest(cache: IdentityCache<string>, dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const r of await filesUnder(dir)) h.update(`${r}\0${await knownSha256(cache, path.join(dir, r))}\n`);
  return h.digest('hex');
}
