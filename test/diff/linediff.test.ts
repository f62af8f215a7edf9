import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { diffLines, splitText, unifiedDiff } from '../../builder/diff/linediff.js';

/** Length of the longest common subsequence, by dynamic programming: the oracle for minimality. */
function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  }
  return dp[a.length][b.length];
}

/** Apply a unified diff to `a`, checking that every context and removed line matches. */
function applyPatch(aText: string, patch: string): string {
  const a = splitText(aText);
  const out: string[] = [];
  let pos = 0;
  for (const line of patch.split('\n').slice(2)) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (m) {
      const start = Number(m[2] === '0' ? Number(m[1]) : Number(m[1]) - 1);
      while (pos < start) out.push(a[pos++]);
      continue;
    }
    const body = line.slice(1);
    if (line[0] === ' ' || line[0] === '-') {
      assert.equal(a[pos], body, `patch line ${JSON.stringify(line)} does not match`);
      pos++;
      if (line[0] === ' ') out.push(body);
    } else if (line[0] === '+') out.push(body);
  }
  while (pos < a.length) out.push(a[pos++]);
  return out.map((l) => `${l}\n`).join('');
}

// A small deterministic generator: fixed seed, so a failure reproduces.
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe('line diff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'a', 'b'), '');
  });

  it('prints a familiar diff -u hunk', () => {
    const a = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n';
    const b = 'one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n';
    assert.equal(unifiedDiff(a, b, 'a/ks.cfg', 'b/ks.cfg'),
      '--- a/ks.cfg\n+++ b/ks.cfg\n@@ -1,7 +1,7 @@\n one\n two\n three\n-four\n+FOUR\n five\n six\n seven');
  });

  it('handles empty sides', () => {
    assert.equal(unifiedDiff('', 'x\n', 'a', 'b'), '--- a\n+++ b\n@@ -0,0 +1 @@\n+x');
    assert.equal(unifiedDiff('x\n', '', 'a', 'b'), '--- a\n+++ b\n@@ -1 +0,0 @@\n-x');
  });

  it('shows a missing final newline as diff does, never as an empty difference', () => {
    assert.equal(unifiedDiff('a\nb', 'a\nb\n', 'a', 'b'), '--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b');
    assert.equal(unifiedDiff('a\nb\n', 'a\nb', 'a', 'b'), '--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file');
  });

  it('a rewritten 20,000-line file: "rewritten", in bounded memory; a small edit in it: one hunk', (t) => {
    // In a child, so its peak RSS is this diff's alone; the address-space limit stops a
    // regression to a search that keeps every step (GiBs) from taking the machine down.
    const script = `
      const { unifiedDiff } = await import(${JSON.stringify(new URL('../../builder/diff/linediff.js', import.meta.url).href)});
      const text = (p) => Array.from({ length: 20000 }, (_, i) => p + ' line ' + i + ' of a long kickstart').join('\\n') + '\\n';
      const a = text('old'), b = text('new');
      const edited = a.replace('old line 10000 of', 'OLD line 10000 of');
      const before = process.resourceUsage().maxRSS;
      const t0 = performance.now();
      const rewritten = unifiedDiff(a, b, 'a/ks.cfg', 'b/ks.cfg');
      const ms = performance.now() - t0;
      const growthKiB = process.resourceUsage().maxRSS - before;
      const small = unifiedDiff(a, edited, 'a/ks.cfg', 'b/ks.cfg');
      console.log(JSON.stringify({ rewritten, small, growthKiB, ms }));`;
    const out = execFileSync('sh', ['-c', 'ulimit -v 2000000 && exec "$0" "$@"', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    const r = JSON.parse(out) as { rewritten: string; small: string; growthKiB: number; ms: number };
    t.diagnostic(`rewritten 20,000 lines: peak RSS +${(r.growthKiB / 1024).toFixed(1)} MiB, ${r.ms.toFixed(0)} ms`);
    assert.equal(r.rewritten, '--- a/ks.cfg\n+++ b/ks.cfg\n@@ rewritten: 20000 lines → 20000 lines, too different to list line by line @@');
    assert.ok(r.growthKiB < 96 * 1024, `peak RSS grew by ${(r.growthKiB / 1024).toFixed(0)} MiB (bound: 96 MiB)`);
    assert.ok(r.ms < 5000, `took ${r.ms.toFixed(0)} ms`);
    assert.equal(r.small.split('\n').filter((l) => /^[-+@]/.test(l)).join('\n'),
      '--- a/ks.cfg\n+++ b/ks.cfg\n@@ -9998,7 +9998,7 @@\n-old line 10000 of a long kickstart\n+OLD line 10000 of a long kickstart');
  });

  it('on random texts: minimal, and the patch turns A into B', () => {
    const r = rng(42);
    for (let round = 0; round < 300; round++) {
      const words = ['a', 'b', 'c', 'd', 'e'];
      const mk = () => Array.from({ length: Math.floor(r() * 30) }, () => words[Math.floor(r() * words.length)]);
      const a = mk();
      const b = r() < 0.5 ? mk() : a.map((w) => (r() < 0.2 ? words[Math.floor(r() * 5)] : w)).filter(() => r() > 0.1);
      const ops = diffLines(a, b);
      assert.equal(ops.filter((o) => o.kind === ' ').length, lcs(a, b), `not minimal for ${a} / ${b}`);
      assert.deepEqual(ops.filter((o) => o.kind !== '+').map((o) => o.line), a);
      assert.deepEqual(ops.filter((o) => o.kind !== '-').map((o) => o.line), b);
      const at = a.map((l) => `${l}\n`).join('');
      const bt = b.map((l) => `${l}\n`).join('');
      const patch = unifiedDiff(at, bt, 'a', 'b');
      if (at === bt) assert.equal(patch, '');
      else assert.equal(applyPatch(at, patch), bt, `patch:\n${patch}`);
    }
  });
});
