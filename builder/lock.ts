// One build per site at a time: a lock file beside the output, taken atomically
// (O_EXCL). A lock left by a dead process is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { BuildError } from './errors.js';

export interface Lock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function takeLock(file: string, what: string): Promise<Lock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => rm(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && alive(pid) && pid !== process.pid) {
        throw new BuildError(`another build of ${what} is running (pid ${pid})`, `wait for it to finish; if no build is running, remove ${file}`);
      }
      await rm(file, { force: true });
    }
  }
  throw new BuildError(`could not take the lock ${file}`);
}
