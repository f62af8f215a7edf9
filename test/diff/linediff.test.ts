import assert from 'node:assert/strict';
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
