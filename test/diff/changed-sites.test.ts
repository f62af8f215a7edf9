import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedSites } from '../../tools/changed-sites.js';
import { PROJECT_DIR } from '../../builder/paths.js';

test('the pull-request job diffs the sites a change touches, and only those', () => {
  const all = ['paraguay', 'rioja'];
  assert.deepEqual(changedSites(PROJECT_DIR, ['sites/rioja.yaml']), ['rioja']);
  assert.deepEqual(changedSites(PROJECT_DIR, ['layers/web-filter/layer.yaml']), ['rioja'], 'only rioja uses the web filter');
  // xs-core is required by the agent layer: every site that lists either is touched.
  assert.deepEqual(changedSites(PROJECT_DIR, ['layers/xs-core/files/motd']), all);
  assert.deepEqual(changedSites(PROJECT_DIR, ['builder/render.ts']), all);
  assert.deepEqual(changedSites(PROJECT_DIR, ['README.md', 'docs/diff.md', 'test/diff/x.test.ts']), []);
});
