// publish --dry-run (and xsbuild diff REPO-DIR SITE): what release N+1 would change on
// deployed servers, for each kind of change, with nothing written to the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { appendFileSync, writeFileSync, rmSync } from 'node:fs';
import { publish } from '../../builder/updates/publish.js';
import { dryRun } from '../../builder/updates/dry-run.js';
import { makeFixture, snapshot, patchFile, addExtraLayer, prng } from './helpers.js';
import { runCli } from '../helpers/project.js';

test('dry run: first release, nothing changed, each kind of change; the repository is never written', async (t) => {
  const f = await makeFixture({ libBytes: 1024 * 1024 });
  t.after(() => f.cleanup());
  const site = path.join(f.dir, 'sites', 'upd.yaml');

  const first = await dryRun({ site, repo: f.repo });
  assert.equal(first.changed, true);
  assert.equal(first.latest, null);
  assert.equal(first.next, 1);
  assert.ok(first.files.added.some((x) => x.path === '/library/common/videos/big.bin' && x.size === 1024 * 1024));
  assert.equal(first.transfer.reusedChunks, 0);

  await publish({ site, repo: f.repo, keyFile: f.key });
  const before = snapshot(f.repo);
  const same = await dryRun({ site, repo: f.repo });
  assert.equal(same.changed, false);
  assert.equal(same.next, null);
  assert.equal(same.transfer.newChunks, 0);

  // A library file edited in place, a file added, a file removed, a new layer with a
  // script, a package: each shows up, and only the edited chunks are new.
  patchFile(path.join(f.lib, 'videos', 'big.bin'), 300_000, 4096, 'edit');
  writeFileSync(path.join(f.lib, 'nuevo.txt'), prng('nuevo', 5000));
  rmSync(path.join(f.lib, 'videos', 'other.bin'));
  addExtraLayer(f);
  appendFileSync(path.join(f.dir, 'layers', 'extra', 'layer.yaml'), 'packages: [xs-extra-tool]\n');
  const r = await dryRun({ site, repo: f.repo });
  assert.equal(r.changed, true);
  assert.equal(r.latest, 1);
  assert.equal(r.next, 2);
  assert.deepEqual(r.layers.added, ['extra']);
  assert.deepEqual(r.packages.added, ['xs-extra-tool']);
  assert.deepEqual(r.files.added.map((x) => x.path).sort(), ['/etc/extra/extra.conf', '/library/common/nuevo.txt']);
  assert.deepEqual(r.files.removed.map((x) => x.path), ['/library/common/videos/other.bin']);
  assert.deepEqual(r.files.changed.map((x) => x.path), ['/library/common/videos/big.bin']);
  assert.ok(r.scripts.some((s) => s.layer === 'extra' && s.changed));
  assert.ok(r.transfer.newBytes < 400 * 1024, `only the edited chunks and the new files are new (${r.transfer.newBytes} bytes)`);
  assert.ok(r.transfer.reusedChunks > 0);
  assert.deepEqual(snapshot(f.repo), before, 'a dry run writes nothing');

  // The command lines: exit 1 when something would change, the text names the changes.
  const cli = await runCli(['publish', site, '--repo', f.repo, '--dry-run']);
  assert.equal(cli.code, 1, cli.stderr);
  assert.match(cli.stdout, /release 2 would change against release 1/);
  assert.match(cli.stdout, /\+ layer extra/);
  assert.match(cli.stdout, /~ \/library\/common\/videos\/big\.bin/);
  assert.match(cli.stdout, /scripts that will run: .*extra \(changed\)/);
  const viaDiff = await runCli(['diff', f.repo, site, '--json']);
  assert.equal(viaDiff.code, 1, viaDiff.stderr);
  assert.equal(JSON.parse(viaDiff.stdout).next, 2);
  assert.deepEqual(snapshot(f.repo), before);
});
