// Property: the update repository's documents (root, release, deltas, and the signed
// envelope around them) are untrusted input; their check functions answer every value
// with a checked document or a FormatError naming the document and field, never
// anything else. Inputs: mutations of valid documents and arbitrary JSON.
// FUZZ_SEED / FUZZ_RUNS replay or widen it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkDeltas, checkRelease, checkRoot, parseEnvelope, FormatError } from '../../agent/pull/format.js';
import { mutateJson, mutation } from '../helpers/mutate.js';

const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

const hex = (c: string) => c.repeat(64);
const key = 'DnkZlO5eV5Iwd+AXYcGTFIbODDXY5kTgGSaMN8Wv2/4=';
const file = (path: string, size: number) => ({ path, mode: '0644', size, sha256: hex('a'), chunks: [[hex('b'), size]] });

const docs = {
  'root.json': {
    check: checkRoot,
    signed: { _type: 'xs-root', spec: 1, site: 'rioja', version: 1, expires: '2027-01-01T00:00:00Z', keys: { [hex('c')]: key }, threshold: 1 },
  },
  'release.json': {
    check: checkRelease,
    signed: {
      _type: 'xs-release', spec: 1, site: 'rioja', version: 3, release: '2026.11', created: '2026-11-01T00:00:00Z', expires: '2027-01-01T00:00:00Z',
      layers: [{ name: 'xs-core', version: '1.4.0', packages: ['chrony', '@core'], files: [file('/etc/motd', 10)], script: { size: 5, sha256: hex('d'), chunks: [[hex('e'), 5]] } }],
      library: [{ dest: '/library/common', files: [file('books/a.txt', 20)] }],
      repo: { files: [file('repodata/repomd.xml', 30)] },
    },
  },
  'releases/3.deltas.json': {
    check: checkDeltas,
    signed: { _type: 'xs-deltas', spec: 1, site: 'rioja', version: 3, release: hex('f'), deltas: [{ chunk: hex('1'), size: 100, delta: hex('2'), deltaSize: 10, base: [[hex('3'), 100]] }] },
  },
};
const names = Object.keys(docs) as (keyof typeof docs)[];

function outcome(name: keyof typeof docs, text: string): 'ok' | 'refused' {
  try {
    const env = parseEnvelope(text, name);
    docs[name].check(env.signed, name);
    return 'ok';
  } catch (e) {
    if (!(e instanceof FormatError)) assert.fail(`not a FormatError: ${(e as Error)?.stack ?? String(e)}\ninput: ${text.slice(0, 300)}`);
    assert.ok(e.message.startsWith(`${name}: `), e.message);
    return 'refused';
  }
}

const envelope = (signed: unknown) => ({ signed, signatures: [{ keyid: hex('c'), sig: 'c2ln' }] });

test('the valid samples pass their checks (the fuzzer starts from real documents)', () => {
  for (const n of names) assert.equal(outcome(n, JSON.stringify(envelope(docs[n].signed))), 'ok', n);
});

test(`mutated root, release and deltas documents end in a document or a FormatError (${RUNS} cases, seed ${SEED})`, (t) => {
  const tally = { ok: 0, refused: 0 };
  fc.assert(
    fc.property(fc.constantFrom(...names), mutation, (n, m) => {
      tally[outcome(n, mutateJson(envelope(docs[n].signed), m))]++;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  t.diagnostic(`${tally.ok} accepted, ${tally.refused} refused`);
  assert.ok(tally.ok > 0 && tally.refused > RUNS / 4, JSON.stringify(tally));
});

test(`arbitrary JSON as a signed document ends in a FormatError (${RUNS} cases)`, () => {
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.jsonValue({ maxDepth: 4 }), (n, v) => {
      outcome(n, JSON.stringify(envelope(v)));
      outcome(n, JSON.stringify(v));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});
