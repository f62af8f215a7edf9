// Property: xs-agent's config parser answers every input with a config or a ConfigError
// (exit 2 in the agent, a message naming the file and field), never anything else.
// Inputs: mutations of a full valid config (structure, values, JSON syntax, deep nesting)
// and arbitrary JSON values. FUZZ_SEED / FUZZ_RUNS replay or widen it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, ConfigError } from '../../agent/config.js';
import { main } from '../../agent/cli.js';
import { mutateJson, mutation } from '../helpers/mutate.js';

const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const F = '/etc/xs-agent/config.json';

const valid = {
  site: 'rioja',
  release: '2026.11',
  hostname: 'escuela-101',
  domain: 'rioja.escuelas.example',
  roles: [
    { name: 'wan', mac: '52:54:00:12:34:01' },
    { name: 'lan', bootif: true, ipv4: '172.18.96.1/19' },
    { name: 'lab', other: true, ifname: 'lab1', ipv4: '10.0.0.2/24 via 10.0.0.1' },
  ],
  library: { source: '/run/install/repo', manifest: '.xsbuild/manifest.json', prefix: '/library', dest: '/library' },
  report: { url: 'http://10.0.2.2:8080/status' },
  updates: { url: 'http://updates.example/xs/', publicKey: 'DnkZlO5eV5Iwd+AXYcGTFIbODDXY5kTgGSaMN8Wv2/4=' },
  timeouts: { nics: 90, hostname: 15, library: 3600, report: 10 },
};

function outcome(text: string): 'ok' | 'refused' {
  try {
    parseConfig(text, F);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ConfigError)) assert.fail(`not a ConfigError: ${(e as Error)?.stack ?? String(e)}\ninput: ${text.slice(0, 300)}`);
    assert.ok(e.message.startsWith(`${F}: `), e.message);
    return 'refused';
  }
}

test('the valid sample parses (the fuzzer starts from a real config)', () => {
  assert.equal(outcome(JSON.stringify(valid)), 'ok');
});

test(`mutated configs end in a config or a ConfigError (${RUNS} cases, seed ${SEED})`, (t) => {
  const tally = { ok: 0, refused: 0 };
  fc.assert(
    fc.property(mutation, (m) => {
      tally[outcome(mutateJson(valid, m))]++;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  t.diagnostic(`${tally.ok} accepted, ${tally.refused} refused`);
  assert.ok(tally.ok > 0 && tally.refused > RUNS / 4, JSON.stringify(tally));
});

test(`arbitrary JSON values end in a config or a ConfigError (${RUNS} cases)`, () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 30 }), (v, junk) => {
      outcome(JSON.stringify(v));
      outcome(junk);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('xs-agent firstboot exits 2 on a refused config, naming the file, and changes nothing', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'xs-agent-fuzz-'));
  try {
    await mkdir(path.join(root, 'etc/xs-agent'), { recursive: true });
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const text = mutateJson(valid, m);
        if (outcome(text) === 'ok') return;
        tried++;
        await writeFile(path.join(root, 'etc/xs-agent/config.json'), text);
        const err: string[] = [];
        const code = await main(['firstboot', '--root', root, '--no-report'], { out: () => {}, err: (l) => err.push(l) });
        assert.equal(code, 2, err.join('\n'));
        assert.match(err.join('\n'), /^error: config: .*etc\/xs-agent\/config\.json: /);
      }),
      { seed: SEED, numRuns: 40 },
    );
    assert.ok(tried > 10, `only ${tried} refused configs`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
