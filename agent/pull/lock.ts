// One pull at a time: the timer and a stick can start pulls together. The lock is a
// kernel flock(2) on <state>/pull.lock, not the file's existence or content, so there is
// nothing to judge: a lock whose holder died is free the moment the kernel closed the
// holder's files (taken over atomically by the next flock), and an empty or half-written
// lock file means nothing. Node has no flock call; flock(1) from util-linux takes it on
// our open file (passed as its fd 3) and exits, and because flock locks belong to the
// open file, the lock stays held by this process until it closes the file or exits. The
// pid written into the file is only for the message another pull prints.
import { constants as fsc, promises as fsp } from 'node:fs';
import { spawn } from 'node:child_process';

const BUSY = 75;

/** Another pull holds the lock; nothing was done. */
export class LockBusy extends Error {}

export async function takePullLock(file: string): Promise<() => Promise<void>> {
  // O_NOFOLLOW: a planted symlink at the lock's name is refused, never written through.
  const fh = await fsp.open(file, fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn('flock', ['--nonblock', '--conflict-exit-code', String(BUSY), '3'], { stdio: ['ignore', 'ignore', 'pipe', fh.fd] });
      let err = '';
      child.stderr?.on('data', (c) => (err += c));
      child.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ENOENT' ? 'flock not found: install util-linux (it takes the pull lock)' : `flock: ${e.message}`)));
      child.on('close', (c) => (c === 0 || c === BUSY ? resolve(c) : reject(new Error(`flock ${file}: ${err.trim() || `exit ${c}`}`))));
    });
  } catch (e) {
    await fh.close();
    throw e;
  }
  if (code === BUSY) {
    const pid = (await fh.readFile('utf8').catch(() => '')).trim();
    await fh.close();
    throw new LockBusy(`another pull is running${/^\d+$/.test(pid) ? ` (pid ${pid})` : ''}: it holds ${file}; this pull did nothing, the next one runs as usual`);
  }
  await fh.truncate(0);
  await fh.write(`${process.pid}\n`, 0);
  // The file stays: removing it would let a third pull lock a new file while a second
  // one still waits on the old one.
  return () => fh.close();
}
