// Which Debian package provides a program or a path on this machine, and which packages
// the project's `.ci/apt-*.txt` lists install on a new one (the lists, everything they
// depend on, and the packages every Debian system has).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import type { Dep } from './scan.js';

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Where a program would be found on PATH, or undefined. */
export function whichProgram(name: string): string | undefined {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined;
  for (const d of PATH_DIRS) {
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The file a dependency names on this machine, if it is here. */
export function located(dep: Dep): string | undefined {
  return dep.kind === 'program' ? whichProgram(dep.name) : existsSync(dep.name) ? dep.name : undefined;
}

/** dpkg -S for one file, trying the merged-/usr spellings dpkg may have recorded. */
export function owningPackage(file: string): string | undefined {
  const candidates = new Set<string>([file]);
  try {
    candidates.add(realpathSync(file));
  } catch {
    // not on this machine: dpkg may still know it (e.g. a diversion), so ask anyway
  }
  for (const c of [...candidates]) {
    if (c.startsWith('/usr/')) candidates.add(c.slice(4));
    else candidates.add('/usr' + c);
  }
  for (const c of candidates) {
    const r = spawnSync('dpkg', ['-S', c], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    // "pkg[:arch][, pkg2]: /path" — diversions print "diversion by ..." lines first.
    const line = r.stdout.split('\n').find((l) => /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(, [a-z0-9][a-z0-9+.:-]*)*: \//.test(l));
    if (line) return line.split(':')[0].split(',')[0].trim();
  }
  return undefined;
}

/** Packages named in .ci/apt-*.txt, with the list that names each. */
export function listedPackages(ciDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(ciDir).filter((n) => /^apt-.*\.txt$/.test(n)).sort()) {
    for (const line of readFileSync(path.join(ciDir, f), 'utf8').split('\n')) {
      for (const p of line.replace(/#.*/, '').trim().split(/\s+/)) if (p && !out.has(p)) out.set(p, f);
    }
  }
  return out;
}

/**
 * Packages a fresh machine has after installing the lists: the lists' Depends/Pre-Depends
 * closure (apt installs them too) and Debian's essential packages (a minimal root has
 * only those: "required" ones such as mount may be missing). Each maps to how it gets
 * there, for the messages.
 */
export function installedByLists(listed: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, f] of listed) out.set(p, `listed in .ci/${f}`);
  const names = [...listed.keys()];
  if (names.length) {
    const r = spawnSync('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...names], { encoding: 'utf8', maxBuffer: 64 << 20 });
    // Only what apt must install: in "A | B" only A counts (apt prints "|Depends: A"
    // and then B as a plain line), and a package reached only through such an
    // alternative is not taken for installed.
    const needed = new Set<string>(names);
    let current = '';
    let inAlternative = false;
    for (const line of (r.stdout ?? '').split('\n')) {
      if (!line.startsWith(' ')) {
        current = line.trim();
        inAlternative = false;
        continue;
      }
      const m = /^\s+(\|?)(?:Pre)?Depends: <?([^>\s]+)>?/.exec(line);
      if (!m) continue;
      const first = !inAlternative;
      inAlternative = m[1] === '|';
      if (first && needed.has(current) && !out.has(m[2])) {
        needed.add(m[2]);
        out.set(m[2], `installed as a dependency (of ${current})`);
      }
    }
  }
  for (const p of basePackages()) if (!out.has(p)) out.set(p, 'part of every Debian system (essential)');
  return out;
}

function basePackages(): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package}\t${Essential}\n'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([, essential]) => essential === 'yes')
    .map(([p]) => p);
}

export function haveDpkg(): boolean {
  try {
    execFileSync('dpkg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
