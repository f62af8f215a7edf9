import { run } from './exec.js';

/** Commit time of the last commit touching `paths` in the repository at `cwd`, or undefined outside git. */
export async function commitTime(cwd: string, paths: string[] = []): Promise<number | undefined> {
  try {
    const { stdout } = await run('git', ['log', '-1', '--format=%ct', '--', ...paths], { cwd });
    const t = Number(stdout.trim());
    return Number.isFinite(t) && t > 0 ? t : undefined;
  } catch {
    return undefined;
  }
}
