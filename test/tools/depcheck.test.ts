import test from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { scanSource, shellPrograms, type DepKind } from '../../tools/depcheck/scan.js';
import { PROJECT_DIR } from '../../builder/paths.js';

function scan(text: string): string[] {
  const out: string[] = [];
  scanSource('x.ts', text, (kind: DepKind, name: string) => out.push(`${kind} ${name}`));
  return [...new Set(out)].sort();
}

test('the scanner finds programs given to process calls, by literal or by const, and system paths', () => {
  const found = scan(`
    const XORRISO = 'xorriso';
    await run(XORRISO, ['-version']);
    execFileSync('mkfs.fat', []);
    spawn('/usr/bin/qemu-system-x86_64', []);
    ns.spawn('dnsmasq', []);
    await execa('sh', ['-c', \`zcat '\${x}' | cpio -t && FOO=1 mdir -i \${img}\`]);
    const mbr = '/usr/lib/grub/i386-pc/boot_hybrid.img';
    const dir = \`/usr/lib/syslinux/modules/bios/\${f}\`;
    // run('not-a-call-in-a-comment')
    console.log('run xorriso then /usr/lib/nothing is a message, not a path? it is a path only alone');
    run(variableNotConst, []);
    process.env.PATH = '/usr/sbin';
  `);
  assert.deepEqual(found, [
    'path /usr/bin/qemu-system-x86_64',
    'path /usr/lib/grub/i386-pc/boot_hybrid.img',
    'path /usr/lib/syslinux/modules/bios',
    'program /usr/bin/qemu-system-x86_64',
    'program cpio',
    'program dnsmasq',
    'program mdir',
    'program mkfs.fat',
    'program sh',
    'program xorriso',
    'program zcat',
  ]);
});

test('shell lines give the first word of each command, not builtins or variables', () => {
  assert.deepEqual(shellPrograms('mount -t proc proc /x && chroot /x $PULL; "$@"; rc=$?'), ['mount', 'chroot']);
});

test('the check fails naming the file, its package and the list to add it to, when a package is not listed', (t) => {
  const ci = mkdtempSync(path.join(tmpdir(), 'xs-depcheck-'));
  t.after(() => rmSync(ci, { recursive: true, force: true }));
  cpSync(path.join(PROJECT_DIR, '.ci'), ci, { recursive: true });
  const cli = path.join(PROJECT_DIR, 'dist/tools/depcheck/main.js');
  const ok = spawnSync(process.execPath, [cli, '--ci', ci], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  // Take grub-pc-bin out of every list, as it was before it was listed.
  const list = path.join(ci, 'apt-installer.txt');
  writeFileSync(list, readFileSync(list, 'utf8').replace(/^grub-pc-bin$/m, ''));
  const bad = spawnSync(process.execPath, [cli, '--ci', ci], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /\/usr\/lib\/grub\/i386-pc\/boot_hybrid\.img: from grub-pc-bin, not in any \.ci\/apt-\*\.txt \(used in test\/installer\/fixture\.ts:\d+\)/);
  // A dependency the lock does not know yet is named too.
  const lock = path.join(ci, 'host-deps.txt');
  writeFileSync(lock, readFileSync(lock, 'utf8').replace(/^program\txorriso\t.*$/m, ''));
  const unknown = spawnSync(process.execPath, [cli, '--ci', ci], { encoding: 'utf8' });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /xorriso: a new dependency .*not in \.ci\/host-deps\.txt/);
});
