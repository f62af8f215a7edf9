// The pull-request comment: GitHub-flavoured markdown that renders (checked with a
// markdown library), short for a big change, never over GitHub's comment limit; and the
// example workflow that posts it, checked with GitHub's own workflow parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { marked } from 'marked';
import { compare } from '../../builder/diff/compare.js';
import { renderMarkdown, MAX_COMMENT } from '../../builder/diff/render-markdown.js';
import type { FileInfo, Snapshot } from '../../builder/diff/source.js';
import type { Manifest } from '../../builder/manifest-types.js';
import { PROJECT_DIR } from '../../builder/paths.js';

const h = (c: string) => c.repeat(64);

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    manifestVersion: 1, site: 'rioja', release: '2026.11', sourceDateEpoch: 1, volumeId: 'V',
    base: { kind: 'demo', version: '1', sha256: h('0') }, layers: [], kickstart: { path: '/ks.cfg', sha256: h('k') },
    bootEntries: [], packages: [], library: [], files: [], tools: {}, ...over,
  };
}

function snap(files: Map<string, FileInfo>, m: Manifest, ks: string): Snapshot {
  return { input: 'x', kind: 'manifest', image: null, manifest: m, filesFrom: 'manifest', files, volumeId: 'V',
    kickstart: { path: '/ks.cfg', sha256: m.kickstart.sha256, text: ks }, bootFromConfigs: null, shipped: null };
}

function report(nFiles: number, ksLines: number) {
  const fa = new Map<string, FileInfo>();
  const fb = new Map<string, FileInfo>();
  for (let i = 0; i < nFiles; i++) {
    fa.set(`/library/video/clase-${String(i).padStart(5, '0')}.mkv`, { size: 1000 + i, sha256: h('a') + i });
    fb.set(`/library/video/clase-${String(i).padStart(5, '0')}.mkv`, { size: 2000 + i, sha256: h('b') + i });
  }
  const ksA = Array.from({ length: ksLines }, (_, i) => `line ${i}`).join('\n') + '\n';
  const ksB = Array.from({ length: ksLines }, (_, i) => `line ${i}${i % 3 ? '' : ' changed'}`).join('\n') + '\n';
  return compare(
    snap(fa, manifest({ layers: [{ name: 'xs-core', version: '1', contentSha256: h('1') }] }), ksA),
    snap(fb, manifest({ kickstart: { path: '/ks.cfg', sha256: h('l') }, layers: [{ name: 'xs-core', version: '2', contentSha256: h('2') }] }), ksB),
  );
}

test('a small change renders as GitHub-flavoured markdown: summary, tables, no folding', async () => {
  const md = renderMarkdown(report(3, 5), false);
  const html = await marked.parse(md, { gfm: true });
  assert.match(md, /^- Files: 3 changed$/m);
  assert.match(html, /<table>[\s\S]*<th>path<\/th>/);
  assert.match(html, /<code>xs-core<\/code>/);
  assert.doesNotMatch(md, /<details>/);
});

test('a big change keeps the summary in view and folds the rest; it never passes the comment limit', async () => {
  const md = renderMarkdown(report(5000, 3000), true);
  assert.ok(md.length <= MAX_COMMENT, `${md.length} characters`);
  const [head] = md.split('<details>');
  assert.match(head, /\*\*\d+ differences\*\*/);
  assert.match(head, /^- Files: 5000 changed$/m);
  assert.match(head, /^- Kickstart: changed$/m);
  assert.match(md, /cut here: the whole report is over 60 kB/);
  const html = await marked.parse(md, { gfm: true });
  // Every <details> is closed and every code fence ended, so the page renders.
  assert.equal((html.match(/<details>/g) ?? []).length, (html.match(/<\/details>/g) ?? []).length);
  assert.equal((md.match(/^```/gm) ?? []).length % 2, 0);
  assert.match(html, /<table>/);
});

test('the example workflow passes GitHub\'s workflow parser and has the pull-request diff job', async () => {
  register(new URL('../helpers/json-import-hook.js', import.meta.url));
  const wp = await import('@actions/workflow-parser');
  const file = path.join(PROJECT_DIR, '.github/workflows/images.yml');
  const parsed = wp.parseWorkflow({ name: 'images.yml', content: readFileSync(file, 'utf8') }, new wp.NoOperationTraceWriter());
  assert.deepEqual(parsed.context.errors.getErrors().map((e) => e.message), []);
  const bad = wp.parseWorkflow({ name: 'bad.yml', content: 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n' }, new wp.NoOperationTraceWriter());
  assert.notDeepEqual(bad.context.errors.getErrors(), [], 'the parser does reject a broken workflow');
  const w = await wp.convertWorkflowTemplate(parsed.context, parsed.value!);
  const jobs = new Map(w.jobs.map((j) => [String((j as { id: { value?: string } }).id.value ?? (j as { id: unknown }).id), j]));
  assert.deepEqual([...jobs.keys()].sort(), ['diff', 'image', 'test']);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /make -s diff SITE="\$site" FROM="\$BASE" FORMAT=markdown/);
  assert.match(text, /xsbuild-diff:\$\{site\}/, 'one marker per site, so a push updates its comment');
  assert.match(text, /updateComment[\s\S]*createComment/);
});
