// Shipped packages from real repositories (rpmbuild + createrepo_c) in each metadata
// compression, and upgrade/downgrade/epoch decisions made from them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareShipped } from '../../builder/diff/compare.js';
import { joinMedia, readShipped } from '../../builder/diff/repodata.js';
import type { Snapshot } from '../../builder/diff/source.js';
import { buildRpm, listTree, makeRepo, tempDir } from './fixtures.js';

describe('repodata', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  const rpms: Record<string, string> = {};

  before(async () => {
    ({ dir: work, cleanup } = await tempDir('repo'));
    const specs = [
      { name: 'bash', version: '5.1.8', release: '6.el9' },
      { name: 'bash', version: '5.1.8', release: '9.el9' },
      { name: 'tzdata', version: '2024a', release: '1' },
      { name: 'tzdata', version: '2023c', release: '1', epoch: 1 },
      { name: 'curl', version: '7.76.1', release: '26.el9' },
      { name: 'curl', version: '7.76.1', release: '19.el9' },
      { name: 'kernel-core', version: '5.14.0', release: '362.el9' },
      { name: 'kernel-core', version: '5.14.0', release: '427.el9' },
      { name: 'only-a', version: '1.0', release: '1' },
      { name: 'only-b', version: '1.0', release: '1' },
    ];
    await Promise.all(specs.map(async (s) => {
      rpms[`${s.name}-${s.version}-${s.release}`] = await buildRpm(join(work, 'build', `${s.name}-${s.version}-${s.release}`), s);
    }));
  });
  after(() => cleanup());

  async function repo(name: string, keys: string[], compress: 'gz' | 'zstd' | 'xz' | 'bz2'): Promise<{ repos: string[]; packages: Awaited<ReturnType<typeof readShipped>>['packages'] }> {
    const root = join(work, name);
    await makeRepo(root, 'BaseOS', keys.map((k) => rpms[k]), compress);
    const paths = await listTree(root);
    return readShipped(paths, async (p) => readFile(join(root, p)).catch(() => null), name);
  }

  const snap = (shipped: Snapshot['shipped']) => ({ shipped } as Snapshot);

  it('reads gzip, zstd, xz and bzip2 primary metadata alike', async () => {
    const keys = ['bash-5.1.8-6.el9', 'curl-7.76.1-26.el9'];
    for (const c of ['gz', 'zstd', 'xz', 'bz2'] as const) {
      const r = await repo(`c-${c}`, keys, c);
      assert.deepEqual(r.repos, ['/BaseOS'], c);
      assert.deepEqual(r.packages.map((p) => [p.name, p.version, p.release, p.arch, p.file]).sort(), [
        ['bash', '5.1.8', '6.el9', 'noarch', '/BaseOS/Packages/bash-5.1.8-6.el9.noarch.rpm'],
        ['curl', '7.76.1', '26.el9', 'noarch', '/BaseOS/Packages/curl-7.76.1-26.el9.noarch.rpm'],
      ], c);
    }
  });

  it('classifies upgrades, downgrades (epoch counts), additions and removals', async () => {
    const a = await repo('a', ['bash-5.1.8-6.el9', 'tzdata-2024a-1', 'curl-7.76.1-26.el9', 'kernel-core-5.14.0-362.el9', 'only-a-1.0-1'], 'gz');
    const b = await repo('b', ['bash-5.1.8-9.el9', 'tzdata-2023c-1', 'curl-7.76.1-19.el9', 'kernel-core-5.14.0-362.el9', 'kernel-core-5.14.0-427.el9', 'only-b-1.0-1'], 'zstd');
    const s = compareShipped(snap(a), snap(b));
    assert.equal(s.available, true);
    // 2023c with epoch 1 is newer than 2024a with epoch 0.
    assert.deepEqual(s.upgraded.map((c) => [c.a.nevra, c.b.nevra]), [
      ['bash-5.1.8-6.el9.noarch', 'bash-5.1.8-9.el9.noarch'],
      ['tzdata-2024a-1.noarch', 'tzdata-1:2023c-1.noarch'],
    ]);
    assert.deepEqual(s.downgraded.map((c) => [c.a.nevra, c.b.nevra]), [['curl-7.76.1-26.el9.noarch', 'curl-7.76.1-19.el9.noarch']]);
    // A second kernel next to the first is an addition, not an upgrade.
    assert.deepEqual(s.added.map((p) => p.nevra), ['kernel-core-5.14.0-427.el9.noarch', 'only-b-1.0-1.noarch']);
    assert.deepEqual(s.removed.map((p) => p.nevra), ['only-a-1.0-1.noarch']);
  });

  it('says why packages could not be compared', () => {
    const none = compareShipped(snap({ repos: [], packages: [] }), snap({ repos: [], packages: [] }));
    assert.deepEqual([none.available, none.reason], [false, 'no repodata/ on either image']);
    const noImage = compareShipped(snap(null), snap({ repos: [], packages: [] }));
    assert.equal(noImage.available, false);
    assert.match(noImage.reason!, /^A has no image to read repodata from/);
  });

  it('resolves hrefs relative to the repository on the media', () => {
    assert.equal(joinMedia('/BaseOS', '../Pkgs/./a.rpm'), '/Pkgs/a.rpm');
    assert.equal(joinMedia('/BaseOS', '/abs/b.rpm'), '/abs/b.rpm');
  });
});
