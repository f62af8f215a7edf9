// Values the installer checks at install time, checked here at build time instead: a
// wrong timezone, keyboard or language otherwise stops an unattended install in a
// school, in front of someone who cannot fix the site file.
import path from 'node:path';
import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { PROJECT_DIR } from '../paths.js';
import { distance as levenshtein } from 'fastest-levenshtein';

const DATA_DIR = path.join(PROJECT_DIR, 'builder', 'validate', 'data');

/** A shipped name list (builder/validate/data/<name>.txt, `#` comments), read once. */
const lists = new Map<string, Set<string>>();
export function shippedList(name: 'keyboards' | 'languages'): Set<string> {
  let set = lists.get(name);
  if (!set) {
    const text = readFileSync(path.join(DATA_DIR, `${name}.txt`), 'utf8');
    set = new Set(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
    lists.set(name, set);
  }
  return set;
}

export const SYSTEM_ZONEINFO = '/usr/share/zoneinfo';

export type ZoneSource = 'zoneinfo' | 'intl';

/**
 * Where time zone names are checked. The installer (Anaconda) accepts a zone when its own
 * tz database has it, links such as America/Buenos_Aires included, spelt exactly. The
 * host's /usr/share/zoneinfo is the same IANA database in the same layout, so it answers
 * the same question; Node's ICU copy (`Intl`) is used only when the host has no zone
 * database (a minimal container), because its list leaves out link names and its lookup
 * ignores case, which the installer does not.
 */
export function zoneSource(zoneinfoDir = SYSTEM_ZONEINFO): ZoneSource {
  try {
    return statSync(path.join(zoneinfoDir, 'UTC')).isFile() ? 'zoneinfo' : 'intl';
  } catch {
    return 'intl';
  }
}

/** Whether `name` is a time zone the installer accepts; `dir` is the zone database. */
export function isKnownZone(name: string, source: ZoneSource, dir = SYSTEM_ZONEINFO): boolean {
  // The schema already limits names to letters, digits, "_+-" and "/" (no "..").
  if (source === 'intl') return intlZones().has(name);
  const file = path.join(dir, name);
  try {
    if (!statSync(file).isFile()) return false;
    // Only compiled zone files, not zone.tab, leapseconds, tzdata.zi and the like.
    const fd = openSync(file, 'r');
    try {
      const magic = Buffer.alloc(4);
      readSync(fd, magic, 0, 4, 0);
      return magic.toString('latin1') === 'TZif';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

let intl: Set<string> | undefined;
function intlZones(): Set<string> {
  intl ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  return intl;
}

/** Up to `n` names from `names` closest to `value` (edit distance), for "did you mean". */
export function closest(value: string, names: Iterable<string>, n = 3, lastSegment = false): string[] {
  const v = value.toLowerCase();
  const tail = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  const scored: { name: string; d: number }[] = [];
  for (const name of names) {
    const full = editDistance(v, name.toLowerCase());
    // "La_Riojaa" should find America/Argentina/La_Rioja: compare the city alone too.
    const d = lastSegment ? Math.min(full, editDistance(tail(v), tail(name.toLowerCase()))) : full;
    if (d <= Math.max(2, Math.floor(value.length / 3))) scored.push({ name, d });
  }
  return scored.sort((a, b) => a.d - b.d || (a.name < b.name ? -1 : 1)).slice(0, n).map((s) => s.name);
}

export function zoneNames(source: ZoneSource): Iterable<string> {
  return source === 'intl' ? intlZones() : Intl.supportedValuesOf('timeZone');
}

/** Levenshtein distance, cut short where the lengths alone rule a near miss out. */
function editDistance(a: string, b: string): number {
  return Math.abs(a.length - b.length) > 8 ? 99 : levenshtein(a, b);
}
