// What kind of system the agent is working on decides which side effects are allowed:
//  live    - "/" of the running system: may trigger udev, set the kernel hostname.
//  chroot  - "/" inside a chroot (kickstart %post): may regenerate the initramfs, but must
//            not touch the running (installer) system's devices.
//  offline - --root DIR: only files under DIR change.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TargetFs } from './fsutil.js';

export type TargetMode = 'live' | 'chroot' | 'offline';

export interface Target {
  fs: TargetFs;
  mode: TargetMode;
}

export async function openTarget(root: string): Promise<Target> {
  const abs = path.resolve(root);
  const fs = new TargetFs(abs);
  if (abs !== '/') return { fs, mode: 'offline' };
  return { fs, mode: (await inChroot()) ? 'chroot' : 'live' };
}

/** Same test as systemd's running_in_chroot(): "/" differs from PID 1's root. */
async function inChroot(): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([fsp.stat('/'), fsp.stat('/proc/1/root/')]);
    return a.dev !== b.dev || a.ino !== b.ino;
  } catch {
    // Without /proc we cannot be the running system's normal boot.
    return true;
  }
}

/** First of the candidate paths that exists on the target (tool lookup without PATH). */
export async function findOnTarget(t: Target, names: string[]): Promise<string | null> {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    for (const n of names) {
      if (await t.fs.exists(`${dir}/${n}`)) return `${dir}/${n}`;
    }
  }
  return null;
}
