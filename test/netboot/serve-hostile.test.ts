// `xsbuild serve` against clients that lie: reports by GET, for MACs the site does not
// have, floods of fake machines with long errors, escape codes meant for the operator's
// terminal, and a Range unit nobody knows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type Serving } from '../../builder/serve/server.js';
import { MAX_ERRORS, MAX_MESSAGE, MAX_UNKNOWN, printable } from '../../builder/serve/room.js';
import type { NetbootManifest } from '../../builder/netboot/manifest.js';

let dir: string;
let serving: Serving;
let port: number;
const logged: string[] = [];
const KNOWN = '52-54-00-00-00-01';

before(async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'xsbuild-serve-hostile-'));
  dir = path.join(base, 'netboot');
  await mkdir(path.join(dir, 'images', 'pxeboot'), { recursive: true });
  await writeFile(path.join(dir, 'boot.ipxe'), '#!ipxe\n');
  await writeFile(path.join(dir, 'images', 'pxeboot', 'vmlinuz'), 'kernel bytes\n');
  await writeFile(path.join(dir, 'images', 'pxeboot', 'initrd.img'), 'initrd\n');
  const manifest: NetbootManifest = {
    format: 1, site: 't', release: '1', serverUrl: 'http://10.0.0.1:8080/', unknownMachines: 'default',
    entry: { ipxe: 'boot.ipxe', grub: 'grub/netboot.cfg', bootstrap: 'bootstrap.ipxe', pxelinux: 'pxelinux.cfg/default', dnsmasq: 'dnsmasq.conf' },
    kernel: 'images/pxeboot/vmlinuz', initrds: ['images/pxeboot/initrd.img'], args: [],
    machines: [{ mac: '52:54:00:00:00:01', id: KNOWN, hostname: 'a', ipxe: `machines/${KNOWN}.ipxe`, grub: `grub/machines/${KNOWN}.cfg`, kickstart: `ks/${KNOWN}.cfg`, kickstartSha256: '' }],
    default: null,
    symlinks: {},
    files: [],
  };
  await writeFile(path.join(dir, 'netboot.json'), JSON.stringify(manifest));
  serving = await startServer({ dir, host: '127.0.0.1', port: 0, log: (l) => logged.push(l) });
  port = Number(new URL(serving.url).port);
});

after(async () => {
  await serving?.close();
  await rm(path.dirname(dir), { recursive: true, force: true });
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function req(p: string, method = 'GET', body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const machine = (id: string) => serving.room.snapshot().machines.find((m) => m.id === id);

test('a GET never marks a machine done; a POST does, for a machine of the site', async () => {
  const g = await req(`/xsbuild/report/${KNOWN}/done`);
  assert.equal(g.status, 405);
  assert.equal(machine(KNOWN)?.steps.done, null);
  assert.equal((await req(`/xsbuild/report/${KNOWN}/done`, 'POST', 'done')).status, 200);
  assert.ok(machine(KNOWN)?.steps.done);
});

test('a report for a MAC this server never saw boot is refused and leaves no trace', async () => {
  const stranger = '02-00-00-00-00-77';
  for (const s of ['done', 'error', 'refused']) {
    const r = await req(`/xsbuild/report/${stranger}/${s}`, 'POST', 'x');
    assert.equal(r.status, 403, s);
  }
  assert.equal(machine(stranger), undefined);
  assert.ok(logged.some((l) => l.includes(`report ${stranger}/done: not a machine of this site`)));
  // The same unknown machine, once it fetched its kernel from here, may report.
  assert.equal((await req(`/images/pxeboot/vmlinuz?mac=${stranger}`)).status, 200);
  assert.equal((await req(`/xsbuild/report/${stranger}/done`, 'POST')).status, 200);
  assert.equal(machine(stranger)?.state, 'done');
});

test('5,000 fake machines with 4 KB errors: the room stays bounded', async () => {
  const long = 'E'.repeat(4096);
  const before = process.memoryUsage().rss;
  const t0 = Date.now();
  for (let i = 0; i < 5_000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => {
      const n = i + j;
      const mac = `02-01-${((n >> 16) & 255).toString(16).padStart(2, '0')}-${((n >> 8) & 255).toString(16).padStart(2, '0')}-${(n & 255).toString(16).padStart(2, '0')}-00`;
      return req(`/images/pxeboot/missing-${n}?mac=${mac}`).then(() => req(`/xsbuild/report/${mac}/error`, 'POST', long));
    }));
  }
  // One machine that reports errors forever.
  for (let i = 0; i < 100; i++) await req(`/xsbuild/report/${KNOWN}/error`, 'POST', `${i} ${long}`);
  const snap = serving.room.snapshot();
  assert.ok(snap.machines.length <= 1 + MAX_UNKNOWN + 1, `room has ${snap.machines.length} machines`);
  assert.ok((snap.summary.turnedAway ?? 0) > 4_000, 'the rest were turned away');
  const k = machine(KNOWN)!;
  assert.equal(k.errors.length, MAX_ERRORS);
  assert.equal(k.errorCount, 100);
  for (const m of snap.machines) for (const e of m.errors) assert.ok(e.message.length <= MAX_MESSAGE, e.message.slice(0, 40));
  const status = await req('/status.json');
  assert.ok(status.body.length < 4 * 1024 * 1024, `/status.json is ${status.body.length} bytes`);
  const grew = (process.memoryUsage().rss - before) / 1048576;
  console.log(`# 5,000 fake machines in ${((Date.now() - t0) / 1000).toFixed(1)} s: room ${snap.machines.length}, /status.json ${(status.body.length / 1024).toFixed(0)} KiB, rss +${grew.toFixed(0)} MiB`);
  assert.ok(grew < 200, `rss grew ${grew.toFixed(0)} MiB`);
});

test('escape codes in a report never reach the terminal', async () => {
  const evil = 'disk \x1b[2J\x1b]0;owned\x07gone\x1b[31m red\r\nnext\x9b';
  assert.equal((await req(`/xsbuild/report/${KNOWN}/error`, 'POST', evil)).status, 200);
  const last = machine(KNOWN)!.errors.at(-1)!.message;
  assert.equal(last, 'installer reported error: disk gone red next');
  assert.doesNotMatch(JSON.stringify(serving.room.snapshot()), /\\u001b|\\u0007/);
  assert.equal(printable('a\x1b[1;31mb\x1b]2;t\x1b\\c\x00d'), 'abc d');
});

test('an unknown Range unit is ignored: the whole file, 200', async () => {
  const r = await req('/images/pxeboot/vmlinuz', 'GET', undefined, { Range: 'items=0-5' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'kernel bytes\n');
  const b = await req('/images/pxeboot/vmlinuz', 'GET', undefined, { Range: 'Bytes=0-5' });
  assert.equal(b.status, 206, 'the unit is case-insensitive');
  assert.equal(b.body, 'kernel');
});
