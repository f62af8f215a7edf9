// Small text helpers shared by the diff renderers: plurals, column alignment and ANSI
// colour that can be switched off as a whole. Sizes are in lib/size.ts.

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
