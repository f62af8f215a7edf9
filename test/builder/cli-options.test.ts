// Every subcommand: an unknown option and an option without its value are bad input
// (exit 2, a message naming the option, no stack trace), and each has its own --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI } from '../helpers/project.js';

const COMMANDS: { args: string[]; missingValue: string[] }[] = [
  { args: ['build', 'rioja'], missingValue: ['build', 'rioja', '--out'] },
  { args: ['validate', 'rioja'], missingValue: ['validate', 'rioja', '--release'] },
  { args: ['schema'], missingValue: ['schema', '--out'] },
  { args: ['serve', 'out/rioja'], missingValue: ['serve', 'out/rioja', '--listen'] },
  { args: ['diff', 'a.iso', 'b.iso'], missingValue: ['diff', 'a.iso'] },
  { args: ['keys', 'generate'], missingValue: ['keys', 'generate', '--out'] },
  { args: ['publish', 'rioja'], missingValue: ['publish', 'rioja', '--repo'] },
  { args: ['bundle', 'rioja'], missingValue: ['bundle', 'rioja', '--to'] },
];

function xsbuild(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

for (const c of COMMANDS) {
  const name = c.args[0] === 'keys' ? 'keys generate' : c.args[0];
  test(`xsbuild ${name}: unknown option, missing value, --help`, () => {
    const bad = xsbuild([...c.args, '--bogus']);
    assert.equal(bad.status, 2, `${bad.stdout}${bad.stderr}`);
    assert.match(bad.stderr, /--bogus/);
    assert.doesNotMatch(bad.stderr, /internal error|\n\s+at \S+ \(/, 'no stack trace');
    const missing = xsbuild(c.missingValue);
    assert.equal(missing.status, 2, `${missing.stdout}${missing.stderr}`);
    assert.doesNotMatch(missing.stderr, /internal error|\n\s+at \S+ \(/);
    const help = xsbuild([c.args[0]!, '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`xsbuild ${c.args[0]}`), 'the command\'s own usage');
  });
}
