// RPM version comparison, following rpm's own rpmvercmp() (lib/rpmvercmp.c) so that
// "upgraded" and "downgraded" mean exactly what dnf would decide.

function isAlnum(c: string): boolean {
  return /[A-Za-z0-9]/.test(c);
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isAlpha(c: string): boolean {
  return /[A-Za-z]/.test(c);
}

/** Compare two version (or release) strings: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Separators carry no meaning except that they split segments; ~ and ^ are special.
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;

    // Tilde sorts before everything, even the end of the string (1.0~rc1 < 1.0).
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret sorts after the end of the string but before anything else (1.0 < 1.0^git1 < 1.0.1).
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    const numeric = isDigit(a[i]);
    const take = numeric ? isDigit : isAlpha;
    let i2 = i;
    let j2 = j;
    while (i2 < a.length && take(a[i2])) i2++;
    while (j2 < b.length && take(b[j2])) j2++;
    let sa = a.slice(i, i2);
    let sb = b.slice(j, j2);
    // Segments of different types: the numeric one is newer.
    if (sb.length === 0) return numeric ? 1 : -1;
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = i2;
    j = j2;
  }
  if (i >= a.length && j >= b.length) return 0;
  // Whichever string still has characters left is newer.
  return i >= a.length ? -1 : 1;
}

export interface Evr {
  epoch: number;
  version: string;
  release: string;
}

/** Compare epoch, then version, then release, as rpm does. */
export function compareEvr(a: Evr, b: Evr): number {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  return rpmvercmp(a.release, b.release);
}

/** "1:2.3-4" or "2.3-4" or "2.3" into its parts; a missing epoch is 0. */
export function parseEvr(text: string): Evr {
  let rest = text;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    epoch = Number(rest.slice(0, colon)) || 0;
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, version: rest, release: '' };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

/** The usual printed form: epoch only when it is not zero. */
export function formatEvr(e: Evr): string {
  const v = e.release ? `${e.version}-${e.release}` : e.version;
  return e.epoch ? `${e.epoch}:${v}` : v;
}
