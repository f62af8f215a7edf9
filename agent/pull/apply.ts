// Atomic apply with an intent log (journal.json in the state directory).
//
//   prepare  every new file is written beside its target as ".<name>.xs-new" and fsynced;
//            the targets are untouched. A crash here: the .xs-new files are deleted and
//            the previous release is fully in place.
//   switch   the commit point: journal says "switch" only once every new file is durable.
//            Each target is hard-linked to ".<name>.xs-old" (the backup), then the new file
//            is renamed over it (one atomic step per file). A crash here: the next run
//            finishes the renames (each step is idempotent), then the steps after it.
//   steps    files are in place; packages and layer scripts run. A failure here rolls
//            back: every backup is renamed over its target, new files are removed.
//   rollback the rollback itself is journaled, so a crash during it is finished too.
//   done     the release is recorded as applied; backups are deleted.
import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { TargetFs } from '../fsutil.js';
import { checkInsideRoot, createExclusive, isNotFound, OutsideRoot } from '../fsutil.js';
import type { ChunkGetter } from './chunks.js';
import { PullDataError } from './chunks.js';
import type { Plan } from './plan.js';
import type { FileRef } from './format.js';
import { StateDir, syncDir } from './state.js';
import { faultPoint } from './fault.js';

export type Phase = 'prepare' | 'switch' | 'steps' | 'rollback' | 'done';

export interface JournalItem {
  /** Target path ("/etc/motd"). */
  target: string;
  /** Host path of the target (under --root). */
  host: string;
  /** Staged new content; absent for a removal. */
  staged?: string;
  backup: string;
  /** The target existed before this release. */
  had: boolean;
  mode?: string;
}

export interface Journal {
  version: number;
  phase: Phase;
  items: JournalItem[];
  error?: string;
}

const JOURNAL = 'journal.json';

export async function readJournal(state: StateDir): Promise<Journal | undefined> {
  return state.readJson<Journal>(JOURNAL);
}

export async function setPhase(state: StateDir, j: Journal, phase: Phase, error?: string): Promise<void> {
  j.phase = phase;
  if (error !== undefined) j.error = error;
  await state.writeJson(JOURNAL, j);
  faultPoint(`journal ${phase}`);
}

export async function dropJournal(state: StateDir): Promise<void> {
  await state.remove(JOURNAL);
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}

function beside(host: string, suffix: string): string {
  return path.join(path.dirname(host), `.${path.basename(host)}.${suffix}`);
}

/** The host path of a target path, refused when a directory on the way leads out of the root. */
async function inRoot(fs: TargetFs, target: string): Promise<string> {
  const host = fs.p(target);
  try {
    await checkInsideRoot(fs.root, host);
  } catch (e) {
    if (!(e instanceof OutsideRoot)) throw e;
    throw new PullDataError(`${target}: ${e.message}`, 'replace the link with a directory (or point it inside the root) and pull again; nothing was applied');
  }
  return host;
}

/** Intent first, then the staged files. Nothing under a target's own name changes. */
export async function prepare(state: StateDir, fs: TargetFs, plan: Plan, version: number, getter: ChunkGetter): Promise<Journal> {
  const items: JournalItem[] = [];
  for (const f of plan.write) {
    const host = await inRoot(fs, f.target);
    items.push({ target: f.target, host, staged: beside(host, 'xs-new'), backup: beside(host, 'xs-old'), had: await exists(host), mode: f.mode });
  }
  for (const t of plan.remove) {
    const host = await inRoot(fs, t);
    if (await exists(host)) items.push({ target: t, host, backup: beside(host, 'xs-old'), had: true });
  }
  const j: Journal = { version, phase: 'prepare', items };
  await setPhase(state, j, 'prepare');
  const dirs = new Set<string>();
  for (let i = 0; i < plan.write.length; i++) {
    const it = items[i]!;
    // A backup left by an earlier, finished run is stale; the switch makes a fresh one.
    await fsp.rm(it.backup, { force: true });
    await fsp.mkdir(path.dirname(it.host), { recursive: true });
    dirs.add(path.dirname(it.host));
    const f = plan.write[i]!;
    if (f.data) await stageSealed(it.staged!, f.data, parseInt(it.mode!, 8), f.uid ?? 0, f.gid ?? 0, f.ref.sha256, it.target);
    else await assemble(it.staged!, f.ref, parseInt(it.mode!, 8), getter, it.target);
    faultPoint('staged');
  }
  for (const it of items.slice(plan.write.length)) await fsp.rm(it.backup, { force: true });
  for (const d of dirs) await syncDir(d);
  return j;
}

/**
 * A decrypted sealed file: written with its mode and owner before it is ever visible
 * under its name (the rename keeps both), so no other user can read it in between.
 */
async function stageSealed(file: string, data: Buffer, mode: number, uid: number, gid: number, sha256: string, shown: string): Promise<void> {
  if (createHash('sha256').update(data).digest('hex') !== sha256) {
    throw new PullDataError(`sealed file ${shown}: content does not match the release's sha256`, 'nothing was applied');
  }
  const fh = await createExclusive(file, 0o600);
  try {
    await fh.chown(uid, gid);
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw diskFull(file, shown);
    throw new Error(`sealed file ${shown}: cannot stage it with owner ${uid}:${gid} mode ${mode.toString(8)} (${code ?? (e as Error).message}); nothing was applied`);
  } finally {
    await fh.close();
  }
}

function diskFull(file: string, shown: string): Error {
  return new Error(`${path.dirname(file)}: disk full while staging ${shown}; free space and pull again (nothing was applied)`);
}

async function assemble(file: string, ref: FileRef, mode: number, getter: ChunkGetter, shown: string): Promise<void> {
  const fh = await createExclusive(file, mode);
  const h = createHash('sha256');
  try {
    for (const [id, n] of ref.chunks) {
      const b = await getter.get(id, n);
      h.update(b);
      await fh.write(b);
    }
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw diskFull(file, shown);
    throw e;
  } finally {
    await fh.close();
  }
  if (h.digest('hex') !== ref.sha256) {
    throw new PullDataError(`${shown}: assembled content does not match the release's sha256`, 'nothing was applied; the source or a seed file changed during the pull — pull again');
  }
}

/** The renames. Idempotent: safe to run again after a crash at any point inside. */
export async function switchFiles(j: Journal): Promise<void> {
  const dirs = new Set<string>();
  for (const it of j.items) {
    dirs.add(path.dirname(it.host));
    if (it.staged) {
      if (!(await exists(it.staged))) continue; // already renamed
      if (it.had && (await exists(it.host)) && !(await exists(it.backup))) {
        await linkOrCopy(it.host, it.backup);
        faultPoint('backup');
      }
      await fsp.rename(it.staged, it.host);
      faultPoint('rename');
    } else {
      if ((await exists(it.host)) && !(await exists(it.backup))) {
        await fsp.rename(it.host, it.backup);
        faultPoint('remove');
      }
    }
  }
  for (const d of dirs) await syncDir(d);
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (e) {
    // Filesystems without hard links: a copy under a temp name, then rename.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
    const tmp = `${to}.tmp`;
    await fsp.rm(tmp, { force: true });
    await fsp.copyFile(from, tmp, fsc.COPYFILE_EXCL);
    await fsp.rename(tmp, to);
  }
}

/** Put every target back as it was before the release. Idempotent. */
export async function rollbackFiles(j: Journal): Promise<void> {
  for (const it of [...j.items].reverse()) {
    if (await exists(it.backup)) {
      await fsp.rename(it.backup, it.host);
      faultPoint('restore');
    } else if (it.staged && !it.had) {
      // A file this release created: nothing to restore, remove it (once it is ours).
      if (!(await exists(it.staged))) await fsp.rm(it.host, { force: true });
    }
    if (it.staged) await fsp.rm(it.staged, { force: true });
  }
  for (const d of new Set(j.items.map((i) => path.dirname(i.host)))) await syncDir(d);
}

/** A prepare that never reached the switch: delete what it staged. */
export async function discardStaged(j: Journal): Promise<void> {
  for (const it of j.items) if (it.staged) await fsp.rm(it.staged, { force: true });
}

export async function removeBackups(j: Journal): Promise<void> {
  for (const it of j.items) {
    await fsp.rm(it.backup, { force: true }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    faultPoint('cleanup');
  }
}
