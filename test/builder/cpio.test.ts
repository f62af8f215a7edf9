// Unit tests: initrd archives are newc, deterministic, and readable by cpio(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { newcArchive, parentDirs, type CpioEntry } from '../../builder/cpio.js';

const entries: CpioEntry[] = [
  { kind: 'file', path: 'etc/xsbuild/overlay.txt', data: Buffer.from('site=x\n') },
  { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
  { kind: 'file', path: 'bin/busybox', data: Buffer.from('#!x\n'), mode: 0o755 },
];

test('newc, sorted, every header field fixed', async () => {
  const all = [...parentDirs(entries.map((e) => e.path)), ...entries];
  const a = await newcArchive(all, 1790000000);
  const b = await newcArchive([...all].reverse(), 1790000000);
  assert.ok(a.equals(b), 'same entries in another order give other bytes');
  assert.equal(a.subarray(0, 6).toString(), '070701');
  assert.ok(a.length % 4 === 0);
  const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: a, env: { TZ: 'UTC', LC_ALL: 'C' } }).toString();
  const names = listing.trim().split('\n').map((l) => l.split(/\s+/).slice(8).join(' '));
  assert.deepEqual(names, ['bin', 'bin/busybox', 'bin/sh -> busybox', 'etc', 'etc/xsbuild', 'etc/xsbuild/overlay.txt']);
  assert.ok(listing.split('\n').every((l) => !l || /root\s+root/.test(l)), listing);
  const c = await newcArchive(all, 1790000001);
  assert.ok(!a.equals(c), 'the epoch must be the only time in the archive');
});

test('refuses names that would escape the archive root', async () => {
  await assert.rejects(newcArchive([{ kind: 'file', path: '../etc/passwd', data: Buffer.alloc(0) }], 0), /refusing entry name/);
  await assert.rejects(newcArchive([{ kind: 'file', path: '/etc/passwd', data: Buffer.alloc(0) }], 0), /refusing entry name/);
});
