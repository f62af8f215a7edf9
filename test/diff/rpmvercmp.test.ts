// rpmvercmp against the pairs in rpm's own test suite (tests/rpmvercmp.at), plus EVR
// ordering, and a cross-check with the installed rpm as the oracle:
// `rpm --eval '%{lua: print(rpm.vercmp(a, b))}'`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { compareEvr, formatEvr, parseEvr, rpmvercmp } from '../../builder/diff/rpmvercmp.js';

// [a, b, expected]
const PAIRS: [string, string, number][] = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0], ['5.5p1', '5.5p2', -1], ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0], ['5.5p1', '5.5p10', -1], ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0], ['xyz10', 'xyz10.1', -1], ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0], ['xyz.4', '8', -1], ['8', 'xyz.4', 1],
  ['xyz.4', '2', -1], ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1], ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1], ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1], ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0], ['10.0001', '10.1', 0], ['10.1', '10.0001', 0],
  ['10.0001', '10.0039', -1], ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1], ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0], ['20101121', '20101122', -1], ['20101122', '20101121', 1],
  ['2_0', '2_0', 0], ['2.0', '2_0', 0], ['2_0', '2.0', 0],
  ['a', 'a', 0], ['a+', 'a+', 0], ['a+', 'a_', 0], ['a_', 'a+', 0], ['+a', '+a', 0], ['+a', '_a', 0], ['_a', '+a', 0],
  ['+_', '+_', 0], ['_+', '+_', 0], ['_+', '_+', 0], ['+', '_', 0], ['_', '+', 0],
  ['1.0~rc1', '1.0~rc1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1],
  ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0~rc1', '1.0~rc1~git123', 1],
  ['1.0^', '1.0^', 0], ['1.0^', '1.0', 1], ['1.0', '1.0^', -1],
  ['1.0^git1', '1.0^git1', 0], ['1.0^git1', '1.0', 1], ['1.0', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1], ['1.0^git2', '1.0^git1', 1],
  ['1.0^git1', '1.01', -1], ['1.01', '1.0^git1', 1],
  ['1.0^20160101', '1.0^20160101', 0], ['1.0^20160101', '1.0.1', -1], ['1.0.1', '1.0^20160101', 1],
  ['1.0^20160101^git1', '1.0^20160101^git1', 0], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0^20160101^git1', '1.0^20160102', -1],
  ['1.0~rc1^git1', '1.0~rc1^git1', 0], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1~pre', '1.0^git1~pre', 0], ['1.0^git1', '1.0^git1~pre', 1], ['1.0^git1~pre', '1.0^git1', -1],
];

describe('rpmvercmp', () => {
  for (const [a, b, want] of PAIRS) {
    it(`${a} vs ${b} = ${want}`, () => assert.equal(rpmvercmp(a, b), want));
  }

  it('agrees with the installed rpm on every pair', async () => {
    // One rpm process for all pairs: rpm.vercmp is the same C function dnf uses.
    const lua = PAIRS.map(([a, b]) => `print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) .. " ")`).join(' ');
    const { stdout } = await execa('rpm', ['--eval', `%{lua: ${lua}}`]);
    const got = stdout.trim().split(/\s+/).map(Number);
    assert.equal(got.length, PAIRS.length);
    PAIRS.forEach(([a, b], i) => assert.equal(rpmvercmp(a, b), got[i], `${a} vs ${b}`));
  });
});

describe('EVR', () => {
  it('epoch wins over version, version over release', () => {
    assert.equal(compareEvr(parseEvr('1:1.0-1'), parseEvr('2.0-1')), 1);
    assert.equal(compareEvr(parseEvr('0:1.0-1'), parseEvr('1.0-1')), 0);
    assert.equal(compareEvr(parseEvr('1.0-2'), parseEvr('1.0-10')), -1);
    assert.equal(compareEvr(parseEvr('1.1-1'), parseEvr('1.0-99')), 1);
    assert.equal(compareEvr(parseEvr('5.14.0-427.el9'), parseEvr('5.14.0-362.24.1.el9_3')), 1);
  });
  it('parses and prints', () => {
    assert.deepEqual(parseEvr('2:1.2.3-4.el9'), { epoch: 2, version: '1.2.3', release: '4.el9' });
    assert.deepEqual(parseEvr('1.2'), { epoch: 0, version: '1.2', release: '' });
    assert.equal(formatEvr(parseEvr('0:1.2-3')), '1.2-3');
    assert.equal(formatEvr(parseEvr('7:1.2-3')), '7:1.2-3');
  });
});
