// checkRelease reads `sealed` strictly: every field checked, errors name the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRelease, FormatError, releaseChunks } from '../../agent/pull/format.js';

const H = (c: string) => c.repeat(64);
const sealedEntry = () => ({
  host: 'xs-a', path: '/etc/xs/lease.txt', mode: '0600', owner: 'root', group: 'root', size: 10, sha256: H('a'),
  blob: { size: 300, sha256: H('b'), chunks: [[H('c'), 300]] },
  recipient: 'age1txf4lydfhmcg64kswl0v96k5xknx0acjca83pufj9d6q9jdhws9qkser9r',
});
const release = (sealed: unknown) => ({
  _type: 'xs-release', spec: 1, site: 'upd', version: 2, release: '2026.1', created: '2026-12-01T00:00:00Z', expires: '2027-01-01T00:00:00Z',
  layers: [{ name: 'xs-core', version: '1', packages: [], files: [{ path: '/etc/motd', mode: '0644', size: 1, sha256: H('d'), chunks: [[H('d'), 1]] }] }],
  library: [], sealed,
});

test('sealed entries: a good one passes and its blob is a chunk of the release', () => {
  const r = checkRelease(release([sealedEntry()]), 'release.json');
  assert.equal(r.sealed![0]!.host, 'xs-a');
  assert.ok(releaseChunks(r).has(H('c')), 'bundles carry the blob');
  assert.equal(checkRelease(release(undefined), 'release.json').sealed, undefined);
});

test('sealed entries: each bad field is refused by name', () => {
  const cases: [(e: Record<string, unknown>) => unknown, RegExp][] = [
    [(e) => ({ ...e, host: 'XS_A' }), /signed\.sealed\[0\]\.host: "XS_A" is not a host name/],
    [(e) => ({ ...e, path: '/etc/../shadow' }), /signed\.sealed\[0\]\.path/],
    [(e) => ({ ...e, path: '/etc/motd' }), /signed\.sealed\[0\]\.path: \/etc\/motd is also a layer or library file/],
    [(e) => ({ ...e, mode: '600' }), /signed\.sealed\[0\]\.mode/],
    [(e) => ({ ...e, owner: 'root;rm' }), /signed\.sealed\[0\]\.owner/],
    [(e) => ({ ...e, recipient: 'age1xyz' }), /signed\.sealed\[0\]\.recipient/],
    [(e) => ({ ...e, content: 'x' }), /signed\.sealed\[0\]\.content: unknown field/],
    [(e) => ({ ...e, size: 64 * 1024 * 1024 + 1 }), /signed\.sealed\[0\]\.size: .* more than/],
    [(e) => ({ ...e, blob: { size: 200_000, sha256: H('b'), chunks: [[H('c'), 200_000]] } }), /signed\.sealed\[0\]\.blob\.size: .* too large/],
    [(e) => ({ ...e, blob: { size: 300, sha256: H('b'), chunks: [[H('c'), 299]] } }), /signed\.sealed\[0\]\.blob\.chunks: chunk sizes add up to 299/],
  ];
  for (const [edit, want] of cases) {
    assert.throws(() => checkRelease(release([edit(sealedEntry())]), 'release.json'), (e: unknown) => e instanceof FormatError && want.test(e.message), String(want));
  }
  assert.throws(() => checkRelease(release([sealedEntry(), sealedEntry()]), 'release.json'), /signed\.sealed\[1\]\.path: \/etc\/xs\/lease\.txt is listed twice for host xs-a/);
  assert.throws(() => checkRelease(release({}), 'release.json'), /signed\.sealed: must be an array/);
});
