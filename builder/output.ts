// Stage "publish output": a build writes into out/.<site>.tmp-<pid>/ and only a finished
// build is renamed to out/<site>/. One build per site at a time (a lock beside the
// output); with the lock held, any other temp dir of the site was left by a killed
// build, and is removed (at library scale each is an ISO's worth of disk).
import path from 'node:path';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { takeLock } from './lock.js';

export interface BuildOutput {
  /** Where this build writes. */
  tmp: string;
  /** Where the finished build goes. */
  final: string;
  /** Temp dirs of earlier, killed builds that were removed. */
  removedStale: string[];
  /** Swap tmp into place (the old output is removed after the rename). */
  publish(): Promise<void>;
  /** Remove tmp (a failed or interrupted build). */
  discard(): Promise<void>;
  release(): Promise<void>;
}

export async function openOutput(outRoot: string, name: string): Promise<BuildOutput> {
  await mkdir(outRoot, { recursive: true });
  const lock = await takeLock(path.join(outRoot, `.${name}.lock`), `site ${name}`);
  try {
    // Site names are [a-z0-9-]: nothing to escape.
    const mine = new RegExp(`^\\.${name}\\.(tmp|old)-\\d+$`);
    const removedStale: string[] = [];
    for (const e of await readdir(outRoot)) {
      if (!mine.test(e)) continue;
      await rm(path.join(outRoot, e), { recursive: true, force: true });
      removedStale.push(e);
    }
    const tmp = path.join(outRoot, `.${name}.tmp-${process.pid}`);
    const final = path.join(outRoot, name);
    await mkdir(tmp, { recursive: true });
    return {
      tmp,
      final,
      removedStale,
      async publish() {
        const old = path.join(outRoot, `.${name}.old-${process.pid}`);
        const hadOld = await stat(final).then(() => true, () => false);
        if (hadOld) await rename(final, old);
        await rename(tmp, final);
        if (hadOld) await rm(old, { recursive: true, force: true });
      },
      discard: () => rm(tmp, { recursive: true, force: true }),
      release: () => lock.release(),
    };
  } catch (e) {
    await lock.release();
    throw e;
  }
}
