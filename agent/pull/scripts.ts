// Layer scripts: each layer's update script runs once per release version, after the
// files are in place. A stamp (scripts/<version>/<layer>.done) is written only when it
// succeeded, so a crash re-runs it (scripts must be safe to run twice, as %post is).
// On a running system they run with /bin/sh; under --root they run chrooted into the
// root when the agent is root and the root has /bin/sh, and are otherwise recorded as
// not run.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Target } from '../target.js';
import { run } from './packages.js';
import type { StateDir } from './state.js';
import { faultPoint } from './fault.js';

export interface ScriptOutcome {
  layer: string;
  result: 'ok' | 'already' | 'not-run' | 'failed';
  note?: string;
}

export async function runScript(t: Target, state: StateDir, version: number, layer: string, text: string, timeoutMs: number): Promise<ScriptOutcome> {
  const dir = state.p('scripts', String(version));
  const stamp = path.join(dir, `${layer}.done`);
  if (await fsp.stat(stamp).then(() => true, () => false)) return { layer, result: 'already' };
  await fsp.mkdir(dir, { recursive: true });
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', XS_UPDATE_VERSION: String(version), XS_LAYER: layer, LANG: 'C' };
  let cmd: string[];
  let tmpInRoot: string | undefined;
  if (t.mode === 'offline') {
    const canChroot = process.getuid?.() === 0 && (await t.fs.exists('/bin/sh'));
    if (!canChroot) return { layer, result: 'not-run', note: `offline root: script of layer ${layer} not run (needs root and /bin/sh in the root to chroot)` };
    tmpInRoot = `/tmp/.xs-update-${version}-${layer}.sh`;
    await t.fs.writeAtomic(tmpInRoot, text, 0o700);
    cmd = ['chroot', t.fs.root, '/bin/sh', tmpInRoot];
  } else {
    const file = path.join(dir, `${layer}.sh`);
    await fsp.writeFile(file, text, { mode: 0o700 });
    cmd = ['/bin/sh', file];
  }
  try {
    faultPoint('script start');
    const r = await run(cmd, timeoutMs, env);
    if (r.code !== 0) return { layer, result: 'failed', note: `script of layer ${layer} exited ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' | ')}` };
  } finally {
    if (tmpInRoot) await fsp.rm(t.fs.p(tmpInRoot), { force: true });
  }
  await fsp.writeFile(stamp, `${new Date().toISOString()}\n`);
  faultPoint('script done');
  return { layer, result: 'ok' };
}
