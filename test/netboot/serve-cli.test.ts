// `xsbuild serve` as a user runs it: announces where it listens, refuses a busy port,
// and stops cleanly on Ctrl-C (exit 0, port released).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, runCli } from '../helpers/project.js';

test('serve: listening event, busy port refused, Ctrl-C stops with exit 0', async () => {
  const out = await mkdtemp(path.join(tmpdir(), 'xsbuild-serve-cli-'));
  try {
    const dir = path.join(out, 'netboot');
    await mkdir(dir);
    await writeFile(path.join(dir, 'boot.ipxe'), '#!ipxe\n');
    await writeFile(
      path.join(dir, 'netboot.json'),
      JSON.stringify({
        format: 1, site: 't', release: '1', serverUrl: 'http://10.0.0.1:8080/t/', unknownMachines: 'default',
        entry: { ipxe: 'boot.ipxe', grub: 'grub/netboot.cfg', bootstrap: 'bootstrap.ipxe', pxelinux: 'pxelinux.cfg/default', dnsmasq: 'dnsmasq.conf' },
        kernel: 'k', initrds: [], args: [], machines: [], default: null, symlinks: {}, files: [],
      }),
    );
    const child = spawn(process.execPath, [CLI, 'serve', out, '--listen', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening event; stderr: ${stderr}`)), 15_000);
      child.stdout.on('data', (c) => {
        stdout += c;
        const m = /"event":"listening","url":"([^"]+)"/.exec(stdout);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const port = Number(new URL(url).port);
    const res = await fetch(new URL('/status.json', url));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).site, 't');

    const busy = await runCli(['serve', out, '--listen', `127.0.0.1:${port}`]);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(busy.stderr, /in use/);

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const refused = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.on('connect', () => (sock.destroy(), resolve(false)));
      sock.on('error', () => resolve(true));
    });
    assert.ok(refused, 'the port is still open after Ctrl-C');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
