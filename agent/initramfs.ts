// Regenerating the initramfs so the pinned names already hold in early boot (the .link
// files are copied into it by dracut's udev-rules module and initramfs-tools' udev hook).
import { findOnTarget, type Target } from './target.js';
import { runToolOk } from './run.js';

export interface InitramfsOutcome {
  regenerated: boolean;
  /** A caveat for the status when not regenerated although the target has a tool. */
  caveat?: string;
  note: string;
}

export async function regenerateInitramfs(t: Target, opts: { timeoutMs: number; signal: AbortSignal }): Promise<InitramfsOutcome> {
  const dracut = await findOnTarget(t, ['dracut']);
  const uit = dracut ? null : await findOnTarget(t, ['update-initramfs']);
  const tool = dracut ?? uit;
  if (!tool) return { regenerated: false, note: 'target has neither dracut nor update-initramfs: no initramfs to regenerate' };
  const args = dracut ? ['-f', '--regenerate-all'] : ['-u', '-k', 'all'];
  const cmd = `${tool} ${args.join(' ')}`;
  if (t.mode === 'offline') {
    const caveat = `initramfs not regenerated: --root ${t.fs.root} is not the running system or a chroot; run "${cmd}" inside the target`;
    return { regenerated: false, caveat, note: caveat };
  }
  const t0 = Date.now();
  await runToolOk(tool, args, opts);
  return { regenerated: true, note: `initramfs regenerated (${cmd}) in ${((Date.now() - t0) / 1000).toFixed(1)} s` };
}
