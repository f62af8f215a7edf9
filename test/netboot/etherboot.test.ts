// Build-level netboot checks: the etherboot medium is byte-identical across two releases
// that differ in a layer and in library content, and changes with the server URL; the
// tree links big files instead of copying them; a site that refuses unknown machines
// gets no default kickstart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { buildEtherboot } from '../../builder/etherboot.js';
import { sha256File } from '../../lib/hash.js';
import { scratchProject, removeProject } from '../helpers/project.js';
import type { NetbootManifest } from '../../builder/netboot/manifest.js';

let project: string;
let out: string;
const cacheDir = path.join(PROJECT_DIR, '.cache');

before(async () => {
  project = await scratchProject('xsbuild-etherboot-');
  out = await mkdtemp(path.join(tmpdir(), 'xsbuild-etherboot-out-'));
  process.env.SOURCE_DATE_EPOCH = '1790000000';
});

after(async () => {
  await rm(out, { recursive: true, force: true });
  await removeProject(project);
});

test('etherboot media are identical across releases and change only with the server URL', async () => {
  const a = await buildSite({ site: 'rioja', root: project, outDir: path.join(out, 'a'), cacheDir, reporter: silentReporter });
  // Another release: a layer changes version and content, the library grows.
  const layer = path.join(project, 'layers', 'xs-core', 'layer.yaml');
  await writeFile(layer, (await readFile(layer, 'utf8')).replace(/^version: .*$/m, 'version: 9.9.9'));
  await appendFile(path.join(project, 'layers', 'xs-core', 'files', 'motd'), 'changed for the next release\n');
  await writeFile(path.join(project, 'overlays', 'library', 'rioja', 'nuevo.txt'), 'new content\n');
  process.env.SOURCE_DATE_EPOCH = '1790086400';
  const b = await buildSite({ site: 'rioja', root: project, outDir: path.join(out, 'b'), release: '2026.12', cacheDir, reporter: silentReporter });
  process.env.SOURCE_DATE_EPOCH = '1790000000';
  assert.notEqual(a.manifest.iso?.sha256, b.manifest.iso?.sha256, 'the two releases should differ');
  for (const f of ['etherboot.iso', 'etherboot.img']) {
    assert.equal(await sha256File(path.join(a.outDir, f)), await sha256File(path.join(b.outDir, f)), `${f} changed between releases`);
  }
  const iso = await stat(path.join(a.outDir, 'etherboot.iso'));
  const img = await stat(path.join(a.outDir, 'etherboot.img'));
  console.log(`# etherboot.iso ${iso.size} bytes, etherboot.img ${img.size} bytes`);
  assert.ok(iso.size <= 8 * 1024 * 1024, 'etherboot.iso should stay small');

  const sums = await readFile(path.join(a.outDir, 'SHA256SUMS'), 'utf8');
  assert.match(sums, /  etherboot\.iso\n/);

  // Same builder, another URL: a different medium.
  const other = await mkdtemp(path.join(tmpdir(), 'xsbuild-etherboot-url-'));
  try {
    await buildEtherboot({ serverUrl: 'http://10.40.0.2:8080/rioja/', outDir: other, workDir: path.join(other, 'w') });
    assert.notEqual(await sha256File(path.join(other, 'etherboot.iso')), await sha256File(path.join(a.outDir, 'etherboot.iso')));
    assert.notEqual(await sha256File(path.join(other, 'etherboot.img')), await sha256File(path.join(a.outDir, 'etherboot.img')));
  } finally {
    await rm(other, { recursive: true, force: true });
  }

  // The tree: big files linked, per-machine kickstarts, a default for unknown machines.
  const nb = JSON.parse(await readFile(path.join(a.outDir, 'netboot', 'netboot.json'), 'utf8')) as NetbootManifest;
  for (const p of ['images/pxeboot/vmlinuz', 'images/pxeboot/initrd.img', 'library/common/index.html']) {
    const f = nb.files.find((x) => x.path === p);
    assert.ok(f && (f.kind === 'hardlink' || f.kind === 'symlink'), `${p} was not linked: ${JSON.stringify(f)}`);
    if (f.kind === 'hardlink') assert.ok((await stat(path.join(a.outDir, 'netboot', p))).nlink >= 2, `${p}: link count 1`);
  }
  assert.deepEqual(nb.machines.map((m) => m.hostname), ['escuela-101', 'escuela-102']);
  for (const m of nb.machines) {
    const ks = await readFile(path.join(a.outDir, 'netboot', m.kickstart), 'utf8');
    assert.match(ks, new RegExp(`--hostname=${m.hostname}\\.`));
    assert.match(ks, /# xsbuild-report:/);
  }
  assert.equal(nb.default?.kickstart, 'ks/default.cfg');
  // The ISO's kickstart has no netboot report.
  assert.ok(!(await readFile(path.join(a.outDir, 'manifest.json'), 'utf8')).includes('xsbuild-report'));
});

test('a site that refuses unknown machines gets no default kickstart', async () => {
  const r = await buildSite({ site: 'paraguay', root: project, outDir: path.join(out, 'p'), cacheDir, reporter: silentReporter });
  const nb = JSON.parse(await readFile(path.join(r.outDir, 'netboot', 'netboot.json'), 'utf8')) as NetbootManifest;
  assert.equal(nb.unknownMachines, 'refuse');
  assert.equal(nb.default, null);
  await assert.rejects(stat(path.join(r.outDir, 'netboot', 'ks', 'default.cfg')));
  const boot = await readFile(path.join(r.outDir, 'netboot', 'boot.ipxe'), 'utf8');
  assert.match(boot, /refuses unknown machines/);
  assert.match(boot, /nomodeset/);
});
