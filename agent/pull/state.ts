// The agent's update state directory (default /var/lib/xs-agent/updates on the target):
//   root.json        newest root of trust verified so far (the chain continues from it)
//   current.json     the applied release, as signed (its version is the rollback floor)
//   pending.json     the release being applied (with journal.json: see apply.ts)
//   journal.json     intent log of an apply in progress
//   chunks/          verified chunks fetched for a release not yet applied (resume)
//   index.json       sha256 of target files by size/mtime/inode, so unchanged files are
//                    not read again on every pull
//   repo/<n>/        package repository shipped by release n
//   scripts/<n>/     layer scripts of release n and their run-once stamps
//   server-key.json  this server's signing key (0600; only the public half leaves)
//   seal-key.txt     this server's age identity for sealed files (0600; agent/fleet/identity.ts)
//   report-seq.json  the last report sequence number
//   approval.json    the office's approval of this server (agent/fleet/enrol.ts)
//   enrol.json       the last enrolment attempt
//   status.json      the last pull's outcome
import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, isNotFound } from '../fsutil.js';
import { checkRelease, checkRoot, parseEnvelope, type ReleaseDoc, type RootDoc } from './format.js';
import type { Envelope } from './sign.js';

/** Default update state directory on the target. */
export const DEFAULT_STATE = '/var/lib/xs-agent/updates';

export class StateDir {
  constructor(readonly dir: string) {}
  p(...rel: string[]): string {
    return path.join(this.dir, ...rel);
  }
  async readJson<T>(rel: string): Promise<T | undefined> {
    try {
      return JSON.parse(await fsp.readFile(this.p(rel), 'utf8')) as T;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new Error(`${this.p(rel)}: ${(e as Error).message}; remove the file to start over`);
    }
  }
  async writeJson(rel: string, v: unknown, mode = 0o644): Promise<void> {
    await writeFileAtomic(this.p(rel), JSON.stringify(v, null, 1) + '\n', mode);
  }
  async remove(rel: string): Promise<void> {
    await fsp.rm(this.p(rel), { recursive: true, force: true });
  }
  /** A stored signed document, re-checked for form (it was verified when stored). */
  async readRoot(): Promise<Envelope<RootDoc> | undefined> {
    const text = await fsp.readFile(this.p('root.json'), 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (text === undefined) return undefined;
    const env = parseEnvelope(text, this.p('root.json'));
    return { signed: checkRoot(env.signed, this.p('root.json')), signatures: env.signatures };
  }
  async readRelease(rel: 'current.json' | 'pending.json'): Promise<Envelope<ReleaseDoc> | undefined> {
    const text = await fsp.readFile(this.p(rel), 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (text === undefined) return undefined;
    const env = parseEnvelope(text, this.p(rel));
    return { signed: checkRelease(env.signed, this.p(rel)), signatures: env.signatures };
  }
}

/** The state directory, made if missing; errors say what is wrong with the disk, named. */
export async function makeStateDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    // A recursive mkdir on a read-only file system reports ENOENT; one level at a time
    // gives the real reason (EROFS, EACCES, ENOSPC).
    let real = e;
    for (const d of ancestors(dir)) {
      try {
        await fsp.mkdir(d, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        real = err;
        break;
      }
    }
    throw stateDirError(dir, real);
  }
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    out.unshift(d);
    if (path.dirname(d) === d) return out;
  }
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * A file-system error as a message that names the state directory and says what to do;
 * other errors unchanged. A bare "ENOSPC ... write" names neither.
 */
export function stateDirError(dir: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const where = err.path && !err.path.startsWith(dir) ? path.dirname(err.path) : dir;
  const what = where === dir ? 'the update state directory' : `writing ${err.path}`;
  if (DISK_FULL.has(err.code ?? '')) return new Error(`${where}: disk full (${what}); free space there and pull again`);
  if (err.code === 'EROFS') return new Error(`${where}: read-only file system (${what}); remount it read-write, or give --state a directory on a writable disk`);
  if ((err.code === 'EACCES' || err.code === 'EPERM') && where === dir) return new Error(`${dir}: not writable (${err.code}, the update state directory); run as root, or give --state a directory you can write`);
  return err instanceof Error ? err : new Error(String(e));
}

/**
 * status.json must say what this pull did, never what an earlier one did. Written as
 * usual (temp name, rename); on a full disk the old file is overwritten in place (its
 * blocks are reused) and, failing that, removed: no status is truer than a stale one.
 */
export async function recordStatus(state: StateDir, status: unknown, log: (l: string) => void): Promise<void> {
  try {
    await state.writeJson('status.json', status);
    return;
  } catch (e) {
    const file = state.p('status.json');
    const text = JSON.stringify(status) + '\n';
    try {
      const fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_NOFOLLOW);
      try {
        await fh.truncate(0);
        await fh.write(text, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return;
    } catch {
      const gone = await fsp.rm(file, { force: true }).then(() => true, () => false);
      log(`xs-agent: ${stateDirError(state.dir, e).message}; ${gone ? `${file} was removed rather than left describing an earlier pull` : `${file} could not be updated and still describes an earlier pull`}`);
    }
  }
}

/** Open-and-fsync a directory so renames in it survive a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // Some filesystems (FAT on a stick) do not support fsync on a directory.
  } finally {
    await fh.close();
  }
}
