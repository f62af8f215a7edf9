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
import { promises as fsp } from 'node:fs';
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
