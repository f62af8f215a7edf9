// Line diff (Myers' O(ND) algorithm) and unified-diff hunks, for kickstarts: small
// files where an exact, familiar `diff -u` view is what a reviewer expects.

export type Op = { kind: ' ' | '-' | '+'; line: string };

/** The shortest edit script turning `a` into `b`, as a list of kept/removed/added lines. */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const off = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace backwards to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vv = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vv[off + k - 1] < vv[off + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vv[off + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[--x] });
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ kind: '+', line: b[--y] });
    else ops.push({ kind: '-', line: a[--x] });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[--x] });
    y--;
  }
  return ops.reverse();
}

export function splitText(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `diff -u` output (without a trailing newline), or '' when the texts are equal. */
export function unifiedDiff(aText: string, bText: string, aName: string, bName: string, context = 3): string {
  const a = splitText(aText);
  const b = splitText(bText);
  const ops = diffLines(a, b);
  if (ops.every((o) => o.kind === ' ')) return '';
  const out = [`--- ${aName}`, `+++ ${bName}`];
  // Positions (1-based) of each op in a and b, to label hunks.
  const pos: { ai: number; bi: number }[] = [];
  let ai = 1;
  let bi = 1;
  for (const o of ops) {
    pos.push({ ai, bi });
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  let i = 0;
  while (i < ops.length) {
    if (ops[i].kind === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are closer than 2*context lines apart.
    for (;;) {
      while (end < ops.length && ops[end].kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next].kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const slice = ops.slice(start, stop);
    const aCount = slice.filter((o) => o.kind !== '+').length;
    const bCount = slice.filter((o) => o.kind !== '-').length;
    const aStart = aCount ? pos[start].ai : pos[start].ai - 1;
    const bStart = bCount ? pos[start].bi : pos[start].bi - 1;
    const range = (s: number, c: number) => (c === 1 ? `${s}` : `${s},${c}`);
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of slice) out.push(o.kind + o.line);
    i = stop;
  }
  return out.join('\n');
}
