// Property: no site or layer, however broken, reaches an uncaught exception. fast-check
// mutates the shipped sites, layers and kickstart templates (structure, values, YAML and
// template syntax, aliases, types, unicode, huge values); every run of `validate` must
// end in success or in bad-input errors that name a file and a line (exit 2), never an
// internal error, never touching out/, each within a time bound.
//
// FUZZ_SEED and FUZZ_RUNS replay or widen a run: a failure prints the seed and the
// shrunk counterexample; `FUZZ_SEED=<seed> node --test dist/test/builder/fuzz.test.js`
// replays it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { validateSite } from '../../builder/pipeline.js';
import { InputError, InputErrors } from '../../builder/errors.js';
import { scratchProject, removeProject, runCli } from '../helpers/project.js';
import { mutation, mutateText, mutateYaml, type Mutation } from '../helpers/mutate.js';

const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
// 500 in-process cases and 8 through the CLI: about 50 s on two busy cores.
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const CLI_RUNS = Math.max(8, Math.round(RUNS / 60));
/** Per case; the slowest legitimate validate here takes well under a second. */
const CASE_MS = 3000;

interface Target {
  rel: string;
  /** The site whose validation reads this file. */
  site: string;
  kind: 'yaml' | 'template';
}

let dir: string;
let targets: Target[];
const originals = new Map<string, string>();

before(async () => {
  dir = await scratchProject('xsbuild-fuzz-');
  const layers = (await readdir(path.join(dir, 'layers'))).sort();
  targets = [
    { rel: 'sites/rioja.yaml', site: 'rioja', kind: 'yaml' },
    { rel: 'sites/paraguay.yaml', site: 'paraguay', kind: 'yaml' },
    ...layers.map((l) => ({ rel: `layers/${l}/layer.yaml`, site: 'rioja', kind: 'yaml' as const })),
  ];
  for (const l of layers) {
    for (const f of (await readdir(path.join(dir, 'layers', l, 'kickstart'))).sort()) targets.push({ rel: `layers/${l}/kickstart/${f}`, site: 'rioja', kind: 'template' });
  }
  for (const t of targets) originals.set(t.rel, await readFile(path.join(dir, t.rel), 'utf8'));
  await mkdir(path.join(dir, 'out', 'rioja'), { recursive: true });
  await writeFile(path.join(dir, 'out', 'rioja', 'previous-release.txt'), 'keep me\n');
});

after(() => removeProject(dir));

const fuzzCase = fc.record({ target: fc.nat(), m: mutation });

async function apply(c: { target: number; m: Mutation }): Promise<{ t: Target; text: string }> {
  const t = targets[c.target % targets.length];
  const before = originals.get(t.rel)!;
  const text = t.kind === 'yaml' ? mutateYaml(before, c.m) : mutateText(before, c.m);
  await writeFile(path.join(dir, t.rel), text);
  return { t, text };
}

async function restore(t: Target): Promise<void> {
  await writeFile(path.join(dir, t.rel), originals.get(t.rel)!);
}

/** Every error a bad input produced names a file and a line, and none is a stack trace. */
function assertPositioned(e: unknown): void {
  if (!(e instanceof InputError || e instanceof InputErrors)) {
    assert.fail(`not a bad-input error: ${(e as Error)?.stack ?? String(e)}`);
  }
  const errors = e instanceof InputErrors ? e.errors : [e];
  assert.ok(errors.length > 0, 'an empty error list');
  for (const x of errors) {
    assert.ok(x.where.file, `no file: ${x.message}`);
    assert.ok(typeof x.where.line === 'number' && x.where.line >= 1, `no line: ${x.message}`);
    assert.doesNotMatch(x.message, /\n\s+at .*:\d+:\d+\)?$/m, `a stack trace in: ${x.message}`);
  }
}

async function outUntouched(): Promise<void> {
  assert.deepEqual(await readdir(path.join(dir, 'out')), ['rioja']);
  assert.deepEqual(await readdir(path.join(dir, 'out', 'rioja')), ['previous-release.txt']);
}

test(`validate never crashes on mutated sites, layers and templates (${RUNS} cases, seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  t.diagnostic(`seed ${SEED}, ${RUNS} cases; replay with FUZZ_SEED=${SEED}`);
  const tally = { ok: 0, bad: 0 };
  let slowest = 0;
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const { t: target } = await apply(c);
      const t0 = performance.now();
      try {
        await validateSite({ site: path.join(dir, 'sites', `${target.site}.yaml`), root: dir });
        tally.ok++;
      } catch (e) {
        assertPositioned(e);
        tally.bad++;
      } finally {
        await restore(target);
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      assert.ok(ms < CASE_MS, `validate took ${ms.toFixed(0)} ms (bound ${CASE_MS} ms)`);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: false },
  );
  await outUntouched();
  t.diagnostic(`${tally.ok} valid, ${tally.bad} bad input, slowest case ${slowest.toFixed(0)} ms`);
  // A fuzzer whose mutations never get past the schema, or never fail it, tests little.
  assert.ok(tally.bad > RUNS / 4, `only ${tally.bad} of ${RUNS} cases were bad input`);
  assert.ok(tally.ok > RUNS / 50, `only ${tally.ok} of ${RUNS} cases were valid`);
});

test(`the CLI exits 0 or 2 with file:line:col on mutated inputs (${CLI_RUNS} cases)`, { timeout: 300_000 }, async () => {
  const codes = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const { t: target } = await apply(c);
      try {
        const r = await runCli(['validate', path.join(dir, 'sites', `${target.site}.yaml`)], { cwd: dir });
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
        if (r.code === 2) assert.match(r.stderr, /^error: [^\n:]+:\d+(:\d+)?: /m);
      } finally {
        await restore(target);
      }
    }),
    { seed: SEED + 1, numRuns: CLI_RUNS },
  );
  await outUntouched();
  assert.ok(codes.has(2), 'no case was bad input');
});
