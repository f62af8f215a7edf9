// createrepo_c: RPM repository metadata. Called so that the same packages give the same
// bytes: a fixed revision, repomd timestamps set to it, no sqlite databases (they embed
// build-time state) and no per-run file names.
import { run } from './exec.js';

export async function createRepo(dir: string, opts: { revision: number; groupFile?: string }): Promise<void> {
  const args = [
    '--revision', String(opts.revision),
    '--set-timestamp-to-revision',
    '--no-database',
    '--workers', '1',
    '--general-compress-type', 'gz',
    ...(opts.groupFile ? ['--groupfile', opts.groupFile] : []),
    dir,
  ];
  await run('createrepo_c', args, { env: { SOURCE_DATE_EPOCH: String(opts.revision) } });
}

export async function createrepoVersion(): Promise<string> {
  const { stdout } = await run('createrepo_c', ['--version']);
  return stdout.split('\n')[0].trim();
}
