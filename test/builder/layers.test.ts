// Unit tests: layer order from `requires` (stable, deterministic), cycles, merging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { resolveLayers } from '../../builder/layers.js';
import { loadSite } from '../../builder/site.js';
import { InputError } from '../../builder/errors.js';
import { scratchProject, removeProject } from '../helpers/project.js';

const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');

async function withLayers(layers: Record<string, string>, siteLayers: string[], fn: (dir: string) => Promise<void>) {
  const dir = await scratchProject();
  try {
    for (const [name, body] of Object.entries(layers)) {
      await mkdir(path.join(dir, 'layers', name), { recursive: true });
      await writeFile(path.join(dir, 'layers', name, 'layer.yaml'), `name: ${name}\nversion: 1.0.0\n${body}`);
    }
    const site = path.join(dir, 'sites', 'rioja.yaml');
    const { readFile } = await import('node:fs/promises');
    await writeFile(site, (await readFile(site, 'utf8')).replace(/^layers: .*$/m, `layers: [${siteLayers.join(', ')}]`));
    await fn(dir);
  } finally {
    await removeProject(dir);
  }
}

const order = async (dir: string) => (await resolveLayers(await loadSite('rioja', { root: dir }))).layers.map((l) => l.name);

test('requires come first; otherwise the site order is kept', async () => {
  await withLayers(
    { a: 'requires: [c]\n', b: '', c: 'requires: [d]\n', d: '' },
    ['b', 'a', 'd'],
    async (dir) => assert.deepEqual(await order(dir), ['b', 'd', 'c', 'a']),
  );
});

test('the order does not depend on the order of the file system', async () => {
  // The file system is presented in two orders: as it lists directories, and reversed. The
  // layer order and each layer's content hash must come out the same both times.
  await withLayers({ z: 'requires: [y, x]\n', y: '', x: '', w: '' }, ['z', 'w'], async (dir) => {
    for (const l of ['x', 'y', 'z', 'w']) {
      for (const f of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/e.txt']) {
        await mkdir(path.dirname(path.join(dir, 'layers', l, 'files', f)), { recursive: true });
        await writeFile(path.join(dir, 'layers', l, 'files', f), `${l} ${f}\n`);
      }
    }
    const resolved = async () => (await resolveLayers(await loadSite('rioja', { root: dir }))).layers.map((l) => [l.name, l.contentSha256]);
    const asListed = await resolved();
    const listed = await readdir(path.join(dir, 'layers', 'x', 'files'));
    const reversed = await withReaddirReversed(resolved);
    assert.ok(reversed.calls > 0, 'the reversed listing was used');
    assert.notDeepEqual(await withReaddirReversed(() => readdir(path.join(dir, 'layers', 'x', 'files'))).then((r) => r.value), listed, 'the two listings differ');
    assert.deepEqual(asListed.map(([n]) => n), ['y', 'x', 'z', 'w']);
    assert.deepEqual(reversed.value, asListed);
  });
});

/** Run `fn` while fs.promises.readdir lists every directory in reverse order. */
async function withReaddirReversed<T>(fn: () => Promise<T>): Promise<{ value: T; calls: number }> {
  const real = fsp.readdir;
  let calls = 0;
  (fsp as { readdir: unknown }).readdir = async (...args: Parameters<typeof real>) => {
    calls++;
    return ((await real(...args)) as unknown[]).reverse();
  };
  // ESM imports of node:fs/promises see the change only once synced.
  syncBuiltinESMExports();
  try {
    return { value: await fn(), calls };
  } finally {
    fsp.readdir = real;
    syncBuiltinESMExports();
  }
}

test('a cycle is named, with the requires entry that closes it', async () => {
  await withLayers({ a: 'requires: [b]\n', b: 'requires: [c]\n', c: 'requires: [a]\n' }, ['a'], async (dir) => {
    await assert.rejects(order(dir), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /layers\/c\/layer\.yaml:3:12: layer cycle: a → b → c → a/);
      return true;
    });
  });
});

test('a self-requiring layer is a cycle', async () => {
  await withLayers({ a: 'requires: [a]\n' }, ['a'], async (dir) => {
    await assert.rejects(order(dir), /layer cycle: a → a/);
  });
});

test('packages merge in layer order without duplicates; override replaces a file', async () => {
  await withLayers(
    {
      a: 'packages: [httpd, rsync]\nfiles:\n  - src: f1\n    dest: /etc/x\n',
      b: 'requires: [a]\npackages: [rsync, squid]\nexcludePackages: [plymouth]\nfiles:\n  - src: f2\n    dest: /etc/x\n    override: true\n',
    },
    ['b'],
    async (dir) => {
      await writeFile(path.join(dir, 'layers', 'a', 'f1'), 'one');
      await writeFile(path.join(dir, 'layers', 'b', 'f2'), 'two');
      const r = await resolveLayers(await loadSite('rioja', { root: dir }));
      assert.deepEqual(r.packages.map((p) => `${p.layer}:${p.name}`), ['a:httpd', 'a:rsync', 'b:squid']);
      assert.deepEqual(r.excludePackages.map((p) => p.name), ['plymouth']);
      assert.equal(r.targetFiles.length, 1);
      assert.equal(r.targetFiles[0].layer, 'b');
      assert.deepEqual(r.targetFiles[0].source, { path: path.join(dir, 'layers', 'b', 'f2') });
    },
  );
});

test('layer content hash changes with content, not with location', async () => {
  const hashes: string[] = [];
  for (let i = 0; i < 2; i++) {
    await withLayers({ a: 'packages: [httpd]\n' }, ['a'], async (dir) => {
      hashes.push((await resolveLayers(await loadSite('rioja', { root: dir }))).layers[0].contentSha256);
    });
  }
  assert.equal(hashes[0], hashes[1]);
  await withLayers({ a: 'packages: [squid]\n' }, ['a'], async (dir) => {
    assert.notEqual((await resolveLayers(await loadSite('rioja', { root: dir }))).layers[0].contentSha256, hashes[0]);
  });
});
