// The one error printer: `error: <message>`, an optional `  hint:` line, a failed tool's
// output below, one block per input error, and a stack trace only for a bug.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorText } from '../../lib/errors.js';
import { BuildError, InputError, InputErrors, errorReport } from '../../builder/errors.js';

test('errorText: message, hint and output lines', () => {
  assert.equal(errorText('disk full'), 'error: disk full');
  assert.equal(errorText('disk full', 'free some space'), 'error: disk full\n  hint: free some space');
  assert.equal(errorText('xorriso exited with 5', undefined, 'command: xorriso -as mkisofs\nlast line\n'), 'error: xorriso exited with 5\ncommand: xorriso -as mkisofs\nlast line');
});

test('errorReport: every kind of failure in the same shape', () => {
  const a = new InputError({ file: 'sites/x.yaml', line: 3, col: 5 }, 'unknown key "sitee"', 'fix its spelling', 'sitee');
  const b = new InputError({ file: 'layers/y/layer.yaml' }, 'no version');
  assert.equal(errorReport(new InputErrors([a, b])), 'error: sites/x.yaml:3:5: sitee: unknown key "sitee"\n  hint: fix its spelling\nerror: layers/y/layer.yaml: no version\n');
  assert.equal(errorReport(new BuildError('dnsmasq rejects x.conf', undefined, 'bad line 3')), 'error: dnsmasq rejects x.conf\nbad line 3\n');
  const withHint = Object.assign(new Error('expired'), { name: 'TrustError', hint: 'renew the root' });
  assert.equal(errorReport(withHint), 'error: expired\n  hint: renew the root\n');
  assert.match(errorReport(new TypeError('x is undefined')), /^error: internal error: TypeError: x is undefined\n\s+at /);
});
