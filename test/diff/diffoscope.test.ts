// Cross-check: on a small pair of images, the file-level changes we report are the ones
// diffoscope (the slow, generic reference) finds, read from its --text output.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { diffReleases } from '../../builder/diff/command.js';
import { makeIso, tempDir, writeTree } from './fixtures.js';

interface Seen {
  changed: Set<string>;
  added: Set<string>;
  removed: Set<string>;
}

/**
 * diffoscope prints a "file list" section (ls -l style lines, "-" for A and "+" for B)
 * and one "├── path" block per file whose content differs.
 */
export function parseDiffoscope(text: string): Seen {
  const changed = new Set<string>();
  const minus = new Set<string>();
  const plus = new Set<string>();
  let inList = false;
  for (const line of text.split('\n')) {
    const top = /^├── (.*)$/.exec(line);
    if (top) {
      inList = top[1] === 'file list';
      if (!inList && !top[1].startsWith('isoinfo ')) changed.add('/' + top[1].replace(/^\.?\//, ''));
      continue;
    }
    if (!inList) continue;
    const m = /^│ ([-+])(-[rwxsStT-]{9})\s+\d+\s+\d+\s+\d+\s+\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (.*)$/.exec(line);
    if (m) (m[1] === '-' ? minus : plus).add('/' + m[3]);
  }
  return {
    changed,
    added: new Set([...plus].filter((p) => !minus.has(p))),
    removed: new Set([...minus].filter((p) => !plus.has(p))),
  };
}

describe('agreement with diffoscope --text', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir: work, cleanup } = await tempDir('diffoscope'));
  });
  after(() => cleanup());

  it('finds the same changed, added, removed and renamed files', async () => {
    const tool = randomBytes(20_000);
    const moving = randomBytes(30_000);
    const common = { 'docs/a.txt': 'alpha\n', 'docs/b.txt': 'beta\n' };
    await writeTree(join(work, 'A'), { ...common, 'bin/tool': tool, 'moved/old-name.dat': moving, 'gone.txt': 'bye\n', 'conf/app.conf': 'x=1\n' });
    await writeTree(join(work, 'B'), {
      ...common,
      'bin/tool': Buffer.concat([tool, Buffer.from('patched')]),
      'moved/new-name.dat': moving,
      'conf/app.conf': 'x=2\n',
      'new/file.txt': 'hello\n',
    });
    await makeIso(join(work, 'A'), join(work, 'a.iso'), 'SMALL');
    await makeIso(join(work, 'B'), join(work, 'b.iso'), 'SMALL');

    const r = await diffReleases(join(work, 'a.iso'), join(work, 'b.iso'), { quiet: true });
    const ours = {
      changed: new Set(r.files.changed.map((f) => f.path)),
      added: new Set([...r.files.added.map((f) => f.path), ...r.files.renamed.map((f) => f.to)]),
      removed: new Set([...r.files.removed.map((f) => f.path), ...r.files.renamed.map((f) => f.from)]),
    };
    assert.deepEqual(r.files.renamed.map((f) => [f.from, f.to]), [['/moved/old-name.dat', '/moved/new-name.dat']]);

    const d = await execa('diffoscope', ['--text', '-', '--max-diff-block-lines', '0', '--exclude-directory-metadata', 'yes',
      join(work, 'a.iso'), join(work, 'b.iso')], { reject: false });
    assert.equal(d.exitCode, 1, d.stderr);
    const theirs = parseDiffoscope(d.stdout);
    assert.deepEqual([...theirs.changed].sort(), [...ours.changed].sort(), d.stdout);
    assert.deepEqual([...theirs.added].sort(), [...ours.added].sort(), d.stdout);
    assert.deepEqual([...theirs.removed].sort(), [...ours.removed].sort(), d.stdout);
    // And the pair really differs in every kind of way.
    assert.deepEqual([...ours.changed].sort(), ['/bin/tool', '/conf/app.conf']);
    assert.deepEqual([...ours.added].sort(), ['/moved/new-name.dat', '/new/file.txt']);
    assert.deepEqual([...ours.removed].sort(), ['/gone.txt', '/moved/old-name.dat']);
  });
});
