// Line diff and `diff -u` hunks for kickstarts, by jsdiff (the `diff` package: Myers'
// algorithm). A text rewritten beyond MAX_EDIT_LINES (or taking longer than TIMEOUT_MS)
// is reported as rewritten instead of listed: such a listing helps no reviewer, and its
// search costs memory and time that grow with the square of the edit length.
import { diffArrays, structuredPatch } from 'diff';

export type Op = { kind: ' ' | '-' | '+'; line: string };

/** Removed plus added lines beyond which a text is "rewritten", not listed line by line. */
export const MAX_EDIT_LINES = 2000;
const TIMEOUT_MS = 5000;

/** The shortest edit script turning `a` into `b`, as a list of kept/removed/added lines. */
export function diffLines(a: string[], b: string[]): Op[] {
  return diffArrays(a, b).flatMap((c) => c.value.map((line) => ({ kind: c.added ? '+' : c.removed ? '-' : ' ', line }) as Op));
}

/** The lines of a text. The final newline is a terminator: "a\nb" and "a\nb\n" both give [a, b]. */
export function splitText(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * `diff -u` output (without a trailing newline), or '' when the texts are equal. A text
 * that lacks the final newline shows it the way diff does: "\ No newline at end of file".
 */
export function unifiedDiff(aText: string, bText: string, aName: string, bName: string, context = 3): string {
  if (aText === bText) return '';
  const out = [`--- ${aName}`, `+++ ${bName}`];
  const patch = structuredPatch(aName, bName, aText, bText, undefined, undefined, { context, maxEditLength: MAX_EDIT_LINES, timeout: TIMEOUT_MS });
  if (!patch) {
    out.push(`@@ rewritten: ${splitText(aText).length} lines → ${splitText(bText).length} lines, too different to list line by line @@`);
    return out.join('\n');
  }
  // GNU diff's hunk ranges: ",1" is left out, and an empty side starts at the line before.
  const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);
  for (const h of patch.hunks) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines);
  }
  return out.join('\n');
}
