// Run-once stamps, as cloud-init's semaphores: a step's stamp is written only after it
// succeeded, so a re-run after a partial failure resumes and a re-run after success
// changes nothing.
import type { TargetFs } from './fsutil.js';
import { STATE_DIR } from './status.js';

export const STAMP_DIR = `${STATE_DIR}/stamps`;

export function stampPath(step: string): string {
  return `${STAMP_DIR}/${step}`;
}

export async function hasStamp(fs: TargetFs, step: string): Promise<boolean> {
  return fs.exists(stampPath(step));
}

export async function writeStamp(fs: TargetFs, step: string, version: string, at: string): Promise<void> {
  await fs.writeAtomic(stampPath(step), `${at} xs-agent ${version}\n`, 0o644);
}
