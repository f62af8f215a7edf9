// Filesystem helpers shared by every step. All paths the agent touches on the target go
// through `TargetFs`, so `--root DIR` applies everywhere and tests never touch the host.
import { promises as fsp, constants as fsc } from 'node:fs';
import * as path from 'node:path';

export class TargetFs {
  constructor(readonly root: string) {}

  /** Map an absolute target path ("/etc/hostname") to the host path under the root. */
  p(targetPath: string): string {
    if (!targetPath.startsWith('/')) {
      throw new Error(`internal: target path must be absolute, got "${targetPath}"`);
    }
    return this.root === '/' ? targetPath : path.join(this.root, targetPath);
  }

  async exists(targetPath: string): Promise<boolean> {
    return exists(this.p(targetPath));
  }

  async readText(targetPath: string): Promise<string> {
    return fsp.readFile(this.p(targetPath), 'utf8');
  }

  async readTextOr(targetPath: string, fallback: string): Promise<string> {
    try {
      return await this.readText(targetPath);
    } catch (e) {
      if (isNotFound(e)) return fallback;
      throw e;
    }
  }

  async writeAtomic(targetPath: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    await writeFileAtomic(this.p(targetPath), data, mode);
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p, fsc.F_OK);
    return true;
  } catch {
    return false;
  }
}

export function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** A directory on the way to a target path is a symbolic link that leads out of the root. */
export class OutsideRoot extends Error {
  constructor(readonly link: string, readonly to: string | undefined, root: string) {
    super(`${link}: is a symbolic link ${to ? `to ${to}, outside` : 'that resolves nowhere inside'} the root ${root}; writing through it would change files outside the root`);
  }
}

/**
 * Refuse a host path whose directories, walked down from the root, include a symbolic
 * link that resolves outside the root (or nowhere): a planted `/library/local -> /srv`
 * must not receive a release. Links that stay inside (merged /usr: /lib -> usr/lib) are
 * fine. Missing directories are fine too: they are made inside whatever exists.
 */
export async function checkInsideRoot(root: string, host: string): Promise<void> {
  if (path.resolve(root) === '/') return;
  // A root still to be made has nothing in it to lead out (mkdir makes it as asked).
  const realRoot = await fsp.realpath(root).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  if (realRoot === undefined) return;
  let cur = path.resolve(root);
  for (const part of path.relative(cur, path.dirname(host)).split(path.sep).filter(Boolean)) {
    cur = path.join(cur, part);
    const st = await fsp.lstat(cur).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (!st) return;
    if (!st.isSymbolicLink()) continue;
    const real = await fsp.realpath(cur).catch(() => undefined);
    if (!real || (real !== realRoot && !real.startsWith(realRoot + path.sep))) throw new OutsideRoot(cur, real, root);
  }
}

/**
 * Open a new file under a name nobody else may have prepared: whatever is at the name
 * (a planted symlink included) is removed, then the file is created exclusively, so it
 * is never opened through an existing name.
 */
export async function createExclusive(p: string, mode: number): Promise<import('node:fs/promises').FileHandle> {
  await fsp.rm(p, { force: true });
  return fsp.open(p, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
}

/** Temp name in the same directory, so the final rename never crosses filesystems. */
export function tempNameFor(p: string): string {
  return path.join(path.dirname(p), `.${path.basename(p)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
}

/**
 * Write then rename, with fsync, so a reader (or a power cut) sees the old file or the
 * new one, never a half-written one.
 */
export async function writeFileAtomic(p: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(p), { recursive: true });
  const tmp = await writeTemp(p, data, mode);
  try {
    await fsp.rename(tmp, p);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** First half of an atomic write: the content is durable under a temp name. */
export async function writeTemp(p: string, data: string | Uint8Array, mode = 0o644): Promise<string> {
  const tmp = tempNameFor(p);
  const fh = await fsp.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    // The mode given to open() is masked by umask; files such as NetworkManager keyfiles
    // must be exactly 0600, so set it explicitly.
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return tmp;
}
