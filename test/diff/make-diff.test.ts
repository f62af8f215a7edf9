// make diff: the site built at two commits (the older one in a temporary worktree) and
// compared, in a clone where the test makes the second commit itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';

test('make diff FROM=HEAD~1 shows a changed layer file as markdown; the same commit shows nothing', { timeout: 10 * 60_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xs-make-diff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clone = path.join(dir, 'clone');
  execFileSync('git', ['clone', '-q', PROJECT_DIR, clone]);
  symlinkSync(path.join(PROJECT_DIR, 'node_modules'), path.join(clone, 'node_modules'));
  symlinkSync(path.join(PROJECT_DIR, '.cache'), path.join(clone, '.cache'));
  execFileSync(process.execPath, [path.join(clone, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: clone });
  const gitc = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...a], { cwd: clone });
  appendFileSync(path.join(clone, 'layers/xs-core/files/motd'), 'Mantenimiento: sábados.\n');
  gitc('commit', '-qam', 'motd: maintenance day');
  const tool = path.join(clone, 'dist/tools/diff-commits.js');

  const r = spawnSync(process.execPath, [tool, '--site', 'rioja', '--from', 'HEAD~1', '--format', 'markdown'], { cwd: clone, encoding: 'utf8' });
  assert.equal(r.status, 1, `exit 1 means "different"\n${r.stderr}`);
  assert.match(r.stdout, /^### xsbuild diff: rioja 2026\.11 → rioja 2026\.11/m);
  assert.match(r.stdout, /`xs-core`/, 'the layer whose content changed is named');
  assert.match(r.stdout, /#### Files/);
  assert.match(r.stderr, /building rioja at HEAD~1/);
  // The temporary worktree is gone.
  assert.equal(execFileSync('git', ['worktree', 'list'], { cwd: clone, encoding: 'utf8' }).trim().split('\n').length, 1);

  const same = spawnSync(process.execPath, [tool, '--site', 'rioja', '--from', 'HEAD'], { cwd: clone, encoding: 'utf8' });
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /no differences|same/i);

  const bad = spawnSync(process.execPath, [tool, '--site', 'rioja', '--from', 'no-such-ref'], { cwd: clone, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /FROM=no-such-ref is not a commit/);
  assert.ok(!existsSync(path.join(clone, 'out')), 'make diff never writes out/');
});

test('the make target passes SITE, FROM and FORMAT through', () => {
  const n = execFileSync('make', ['-n', '-s', '-C', PROJECT_DIR, 'diff', 'SITE=paraguay', 'FROM=v1', 'FORMAT=markdown'], { encoding: 'utf8' });
  assert.match(n, /dist\/tools\/diff-commits\.js --site paraguay --from v1 --format markdown \|\| \[ \$\? -eq 1 \]/);
});
