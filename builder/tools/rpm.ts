// rpm: read a package file's header (name, epoch, version, release, arch). Signatures
// are not checked here: the site repo carries what the layers ship, as they ship it.
import { run } from './exec.js';

export interface RpmHeader {
  file: string;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** SOURCERPM is "(none)" for source packages. */
  source: boolean;
}

const SEP = '\x1f';
const QF = ['%{NAME}', '%{EPOCHNUM}', '%{VERSION}', '%{RELEASE}', '%{ARCH}', '%{SOURCERPM}'].join(SEP) + '\\n';

/** The header of one package file, or why rpm cannot read it. */
export async function rpmHeader(file: string): Promise<RpmHeader | { error: string }> {
  const r = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', QF, file], { allowFailure: true });
  const f = r.stdout.split('\n').find((l) => l.includes(SEP))?.split(SEP);
  if (!f || f.length !== 6) return { error: r.stderr.trim().split('\n').pop() || 'not an RPM package' };
  return { file, name: f[0], epoch: Number(f[1]) || 0, version: f[2], release: f[3], arch: f[4], source: f[5] === '(none)' };
}

export function nevra(h: { name: string; epoch: number; version: string; release: string; arch: string }): string {
  return `${h.name}-${h.epoch ? `${h.epoch}:` : ''}${h.version}-${h.release}.${h.arch}`;
}

export async function rpmVersion(): Promise<string> {
  const { stdout } = await run('rpm', ['--version']);
  return stdout.trim();
}
