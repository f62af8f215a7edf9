// Library content over 4 GiB is mapped into the ISO (ISO level 3, multi-extent) with
// its size and sha256 in the manifest. The file is sparse, so this costs little disk
// to prepare, but the ISO really holds the 4.5 GiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scratchProject, runCli } from '../helpers/project.js';
import type { Manifest } from '../../builder/manifest-types.js';

test('a 4.5 GiB library file goes into the ISO whole', async () => {
  const dir = await scratchProject('xsbuild-big-');
  try {
    const lib = path.join(dir, 'overlays', 'library', 'video');
    await mkdir(lib, { recursive: true });
    const size = 4.5 * 1024 ** 3;
    const fh = await open(path.join(lib, 'curso.mkv'), 'w');
    await fh.write(Buffer.from('head'), 0, 4, 0);
    await fh.write(Buffer.from('tail'), 0, 4, size - 4);
    await fh.close();
    const site = path.join(dir, 'sites', 'paraguay.yaml');
    await writeFile(site, (await readFile(site, 'utf8')).replace('library:\n', 'library:\n  - source: overlays/library/video\n    dest: /library/video\n'));
    const out = path.join(dir, 'out');
    const r = await runCli(['build', site, '--out', out], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(await readFile(path.join(out, 'paraguay', 'manifest.json'), 'utf8')) as Manifest;
    const entry = m.files.find((f) => f.path === '/library/video/curso.mkv');
    assert.equal(entry?.size, size);
    assert.ok(m.iso!.size > size);
    const ls = execFileSync('xorriso', ['-no_rc', '-indev', path.join(out, 'paraguay', m.iso!.name), '-lsl', '/library/video/curso.mkv'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.match(ls, new RegExp(`\\s${size}\\s`), ls);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
