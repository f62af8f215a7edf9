// A USB stick carrying a bundle. The stick is found by its file system label (XSUPDATE
// by default: `mkfs.vfat -n XSUPDATE` or `fatlabel DEV XSUPDATE`), mounted by the agent
// for the length of one pull (so it can write its report onto it), synced and unmounted
// again, so it can be pulled out as soon as the unit is done.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { run } from './packages.js';
import { RELEASE_FILE } from './format.js';

export const DEFAULT_STICK = '/dev/disk/by-label/XSUPDATE';
const MOUNTPOINT = '/run/xs-agent/stick';

export async function stickPresent(device: string): Promise<boolean> {
  return fsp.stat(device).then(() => true, () => false);
}

export async function mountStick(device: string): Promise<{ dir: string; release: () => Promise<void> }> {
  await fsp.mkdir(MOUNTPOINT, { recursive: true, mode: 0o700 });
  const m = await run(['mount', '-o', 'nosuid,nodev,noexec', device, MOUNTPOINT], 60_000);
  if (m.code !== 0) throw new Error(`mount ${device} ${MOUNTPOINT}: ${m.output.trim()}`);
  return {
    dir: MOUNTPOINT,
    release: async () => {
      await run(['sync'], 120_000);
      await run(['umount', MOUNTPOINT], 60_000);
    },
  };
}

/** Where on a stick the bundle is: <stick>/xs-update/<site>, <stick>/xs-update or <stick>. */
export async function findBundle(dir: string, site: string | undefined): Promise<string | undefined> {
  const candidates = [...(site ? [path.join(dir, 'xs-update', site)] : []), path.join(dir, 'xs-update'), dir];
  for (const c of candidates) if (await fsp.stat(path.join(c, RELEASE_FILE)).then(() => true, () => false)) return c;
  return undefined;
}
