// Every xs-agent command: its own --help (exit 0, on stdout), and an unknown option or an
// option without its value is a usage error: exit 2, an error naming it and a hint on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../agent/cli.js';
import { runCli } from './fixtures.js';

const COMMANDS: { cmd: string; missingValue: string }[] = [
  { cmd: 'firstboot', missingValue: '--root' },
  { cmd: 'status', missingValue: '--state' },
  { cmd: 'pull', missingValue: '--from' },
  { cmd: 'identity', missingValue: '--state' },
  { cmd: 'enrol', missingValue: '--stick' },
];

for (const { cmd, missingValue } of COMMANDS) {
  test(`xs-agent ${cmd}: --help, unknown option, missing value`, async () => {
    const help = await runCli(main, [cmd, '--help']);
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, new RegExp(`^usage: xs-agent ${cmd} `));
    assert.match(help.out, new RegExp(`^  ${cmd} \\[`, 'm'), 'the command\'s own options');
    assert.equal(help.err, '');
    const bad = await runCli(main, [cmd, '--bogus']);
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.equal(bad.err, `error: ${cmd}: unknown option "--bogus"\n  hint: xs-agent ${cmd} --help lists its options`);
    const missing = await runCli(main, [cmd, missingValue]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, new RegExp(`^error: ${cmd}: option ${missingValue} needs a value`));
  });
}

test('xs-agent with no command or an unknown one: usage on stderr, exit 2', async () => {
  const none = await runCli(main, []);
  assert.equal(none.code, 2);
  assert.match(none.err, /^usage: xs-agent <command>/);
  const unknown = await runCli(main, ['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.err, 'error: unknown command "frobnicate"\n  hint: the commands are firstboot, status, pull, identity, enrol; xs-agent --help says what each does');
});
