// xsbuild plan: the build plan a reader can follow to the code, and diff between builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';
import { runCli, scratchProject, removeProject } from '../helpers/project.js';
import type { BuildPlan } from '../../builder/plan/types.js';

const planOf = async (...args: string[]): Promise<BuildPlan> => {
  const r = await runCli(['plan', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BuildPlan;
};

test('the plan of rioja names every stage, in order, with a module that exists', async () => {
  const p = await planOf('rioja');
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['initrd overlay', 'base', 'compose repos', 'artifact xs-agent', 'stage', 'hash', 'manifest', 'master', 'verify', 'netboot', 'etherboot', 'checksums', 'publish output'],
  );
  for (const s of p.stages) {
    const files = s.module.match(/[a-z/.-]+\.ts/g) ?? [];
    assert.ok(files.length > 0, `${s.name}: no module named`);
    for (const f of files) assert.ok(await stat(path.join(PROJECT_DIR, f)).catch(() => undefined), `${s.name}: ${f} does not exist`);
  }
  assert.deepEqual(p.kickstarts.map((k) => [k.path, k.machine]), [
    ['/ks.cfg', null],
    ['netboot/ks/52-54-00-12-34-01.cfg', 'escuela-101'],
    ['netboot/ks/52-54-00-12-34-02.cfg', 'escuela-102'],
    ['netboot/ks/default.cfg', null],
  ]);
  assert.deepEqual(p.artifacts, ['xs-agent']);
  assert.ok(p.files.some((f) => f.isoPath === '/xsbuild/xs-agent' && 'artifact' in f.from));
  const text = await runCli(['plan', 'rioja']);
  assert.equal(text.code, 0, text.stderr);
  for (const s of p.stages) assert.ok(text.stdout.includes(`. ${s.name}  [${s.module}]`), `text plan lacks stage ${s.name}`);
});

test('plans diff: another release changes the release, the volume, the kickstarts and the output, nothing else', async () => {
  const a = await planOf('rioja');
  const b = await planOf('rioja', '--release', '2026.12');
  const changed = (Object.keys(a) as (keyof BuildPlan)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  assert.deepEqual(changed.sort(), ['kickstarts', 'output', 'site'].sort());
  assert.equal(b.site.release, '2026.12');
  assert.notEqual(a.kickstarts[0].sha256, b.kickstarts[0].sha256);
});

test('a site without netboot plans no netboot or etherboot stage; bad input is exit 2 with the file named', async () => {
  const project = await scratchProject();
  try {
    const file = path.join(project, 'sites', 'paraguay.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^netboot:\n(  .*\n)+/m, ''));
    const p = await planOf(file);
    assert.equal(p.netboot, null);
    assert.ok(!p.stages.some((s) => s.name === 'netboot' || s.name === 'etherboot'));
  } finally {
    await removeProject(project);
  }
  const bad = await runCli(['plan', 'no-such-site']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /sites\/no-such-site\.yaml/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
