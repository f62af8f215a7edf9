// Small text helpers shared by the renderers: sizes in human units, column alignment
// and ANSI colour that can be switched off as a whole.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; bytes stay exact below 1 KiB. */
export function humanSize(bytes: number): string {
  const neg = bytes < 0;
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
  return neg ? `-${s}` : s;
}

/** Signed size change: "+1.5 KiB", "-3 B", "±0 B". */
export function humanDelta(bytes: number): string {
  if (bytes === 0) return '±0 B';
  return bytes > 0 ? `+${humanSize(bytes)}` : humanSize(bytes);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export interface Palette {
  add(s: string): string;
  del(s: string): string;
  mod(s: string): string;
  head(s: string): string;
  dim(s: string): string;
}

const wrap = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const COLOUR: Palette = { add: wrap('32'), del: wrap('31'), mod: wrap('33'), head: wrap('1'), dim: wrap('2') };
const same = (s: string) => s;
export const PLAIN: Palette = { add: same, del: same, mod: same, head: same, dim: same };

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
export function visibleLength(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/**
 * Align rows into columns. Every cell but the last is padded; `right` lists columns
 * aligned right (sizes). Colour codes do not count towards the width.
 */
export function columns(input: string[][], right: number[] = []): string[] {
  // Columns empty in every row (e.g. "no files removed anywhere") are dropped, not padded.
  const n = Math.max(0, ...input.map((r) => r.length));
  const keep = [...Array(n).keys()].filter((i) => input.some((r) => (r[i] ?? '') !== ''));
  const rows = input.map((r) => keep.filter((i) => i < r.length).map((i) => r[i]));
  right = right.map((i) => keep.indexOf(i)).filter((i) => i >= 0);
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows.map((r) =>
    r
      .map((c, i) => {
        if (i === r.length - 1 && !right.includes(i)) return c;
        const pad = ' '.repeat(widths[i] - visibleLength(c));
        return right.includes(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}
