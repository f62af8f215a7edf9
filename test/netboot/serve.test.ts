// `xsbuild serve` against a small tree: path containment (traversal table, encodings,
// symlinks in and out of the tree, the generator's allow-listed links), byte ranges,
// lengths and types, 50 concurrent clients, the installers' reports, a busy port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type Serving } from '../../builder/serve/server.js';
import { requestSegments, parseRange } from '../../builder/serve/resolve.js';
import type { NetbootManifest } from '../../builder/netboot/manifest.js';

let dir: string;
let outside: string;
let serving: Serving;
let port: number;
const logged: string[] = [];
const big = randomBytes(3 * 1024 * 1024 + 17);

before(async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'xsbuild-serve-'));
  dir = path.join(base, 'netboot');
  outside = path.join(base, 'outside');
  await mkdir(path.join(dir, 'images', 'pxeboot'), { recursive: true });
  await mkdir(path.join(dir, 'ks'), { recursive: true });
  await mkdir(path.join(dir, 'library'), { recursive: true });
  await mkdir(path.join(dir, 'repo'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
  await writeFile(path.join(outside, 'allowed.txt'), 'content on another disk\n');
  await writeFile(path.join(dir, 'boot.ipxe'), '#!ipxe\n');
  await writeFile(path.join(dir, 'images', 'pxeboot', 'vmlinuz'), big);
  await writeFile(path.join(dir, 'images', 'pxeboot', 'initrd.img'), big.subarray(0, 1000));
  await writeFile(path.join(dir, 'ks', '52-54-00-00-00-01.cfg'), 'network --hostname=a\n');
  for (let i = 0; i < 20; i++) await writeFile(path.join(dir, 'repo', `p${i}.rpm`), randomBytes(50_000));
  await symlink(path.join(outside, 'secret.txt'), path.join(dir, 'library', 'escape.txt'));
  await symlink(outside, path.join(dir, 'library', 'escape-dir'));
  await symlink(path.join(outside, 'allowed.txt'), path.join(dir, 'library', 'allowed.txt'));
  await symlink('../boot.ipxe', path.join(dir, 'library', 'inside.ipxe'));
  const manifest: NetbootManifest = {
    format: 1, site: 't', release: '1', serverUrl: 'http://10.0.0.1:8080/t/', unknownMachines: 'default',
    entry: { ipxe: 'boot.ipxe', grub: 'grub/netboot.cfg', bootstrap: 'bootstrap.ipxe', pxelinux: 'pxelinux.cfg/default', dnsmasq: 'dnsmasq.conf' },
    kernel: 'images/pxeboot/vmlinuz', initrds: ['images/pxeboot/initrd.img'], args: [],
    machines: [{ mac: '52:54:00:00:00:01', id: '52-54-00-00-00-01', hostname: 'a', ipxe: 'machines/52-54-00-00-00-01.ipxe', grub: 'grub/machines/52-54-00-00-00-01.cfg', kickstart: 'ks/52-54-00-00-00-01.cfg', kickstartSha256: '' }],
    default: null,
    symlinks: { 'library/allowed.txt': await realpath(path.join(outside, 'allowed.txt')) },
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

/** A raw request: the path is sent exactly as given (no client-side normalisation). */
function get(p: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const TRAVERSALS = [
  '/../outside/secret.txt',
  '/../../../../etc/passwd',
  '/%2e%2e/outside/secret.txt',
  '/%2E%2E/%2e%2e/etc/passwd',
  '/images/../../outside/secret.txt',
  '/images/%2e%2e/%2e%2e/outside/secret.txt',
  '/..%2foutside%2fsecret.txt',
  '/images%2f..%2f..%2foutside/secret.txt',
  '/..%5coutside%5csecret.txt',
  '/library/escape.txt',
  '/library/escape-dir/secret.txt',
  '/library/escape-dir/allowed.txt',
  '/etc/passwd',
  '/boot.ipxe%00.txt',
  '/%252e%252e/outside/secret.txt',
  '/images/pxeboot/',
  'http://evil.example/../../etc/passwd',
  '/t/../../outside/secret.txt',
];

test(`path traversal table: ${TRAVERSALS.length} attempts, all refused and logged`, async () => {
  for (const p of TRAVERSALS) {
    logged.length = 0;
    const r = await get(p);
    assert.equal(r.status, 404, `${p} gave ${r.status}: ${r.body.toString().slice(0, 80)}`);
    assert.ok(!r.body.toString().includes('secret'), `${p} leaked`);
    assert.equal(logged.length, 1, `${p} was not logged`);
  }
});

test('dot segments inside the tree, the prefix, allow-listed and inside symlinks are served', async () => {
  for (const p of ['/boot.ipxe', '/t/boot.ipxe', '/boot.ipxe/../ks/52-54-00-00-00-01.cfg', '/images/./pxeboot/../../boot.ipxe', '/library/inside.ipxe', '/%62oot.ipxe', '/boot.ipxe?mac=52-54-00-00-00-01']) {
    const r = await get(p);
    assert.equal(r.status, 200, `${p} gave ${r.status}`);
  }
  const a = await get('/library/allowed.txt');
  assert.equal(a.status, 200);
  assert.equal(a.body.toString(), 'content on another disk\n');
  assert.deepEqual(requestSegments('/a/b/../c?x=1'), { segments: ['a', 'c'], query: new URLSearchParams('x=1') });
  assert.deepEqual(requestSegments('/..'), { error: 'climbs above the tree root' });
});

test('lengths, types, HEAD and byte ranges', async () => {
  const full = await get('/images/pxeboot/vmlinuz');
  assert.equal(full.status, 200);
  assert.equal(Number(full.headers['content-length']), big.length);
  assert.equal(full.headers['accept-ranges'], 'bytes');
  assert.ok(full.body.equals(big));
  assert.equal((await get('/boot.ipxe')).headers['content-type'], 'text/plain; charset=utf-8');
  const head = await get('/images/pxeboot/vmlinuz', {}, 'HEAD');
  assert.equal(Number(head.headers['content-length']), big.length);
  assert.equal(head.body.length, 0);
  const cases: [string, number, number][] = [['bytes=0-99', 0, 99], ['bytes=1000-', 1000, big.length - 1], ['bytes=-500', big.length - 500, big.length - 1], ['bytes=5-5', 5, 5], [`bytes=10-${big.length + 100}`, 10, big.length - 1]];
  for (const [h, s, e] of cases) {
    const r = await get('/images/pxeboot/vmlinuz', { Range: h });
    assert.equal(r.status, 206, h);
    assert.equal(r.headers['content-range'], `bytes ${s}-${e}/${big.length}`, h);
    assert.equal(Number(r.headers['content-length']), e - s + 1, h);
    assert.ok(r.body.equals(big.subarray(s, e + 1)), h);
  }
  for (const h of [`bytes=${big.length}-`, 'bytes=9-3', 'bytes=-0', 'bytes=x-y']) {
    const r = await get('/images/pxeboot/vmlinuz', { Range: h });
    assert.equal(r.status, 416, h);
    assert.equal(r.headers['content-range'], `bytes */${big.length}`);
  }
  assert.equal(parseRange('bytes=0-1,5-6', 10), undefined, 'multiple ranges: whole file');
  assert.equal((await get('/boot.ipxe', {}, 'DELETE')).status, 405);
});

test('50 concurrent clients fetch kernel, initrd and 20 repo files without a failed request', async () => {
  const sum = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const want = new Map<string, string>();
  const paths = ['/images/pxeboot/vmlinuz', '/images/pxeboot/initrd.img', ...Array.from({ length: 20 }, (_, i) => `/repo/p${i}.rpm`)];
  for (const p of paths) want.set(p, sum((await get(p)).body));
  const t0 = Date.now();
  let bytes = 0;
  await Promise.all(
    Array.from({ length: 50 }, async (_, c) => {
      const mac = `52-54-00-00-01-${c.toString(16).padStart(2, '0')}`;
      for (const p of paths) {
        const r = await get(`${p}?mac=${mac}`);
        assert.equal(r.status, 200, `${p} for client ${c}`);
        assert.equal(sum(r.body), want.get(p), `${p} for client ${c}: wrong bytes`);
        bytes += r.body.length;
      }
    }),
  );
  const s = (Date.now() - t0) / 1000;
  console.log(`# 50 clients x ${paths.length} files: ${(bytes / 1048576).toFixed(0)} MiB in ${s.toFixed(2)}s (${(bytes / 1048576 / s).toFixed(0)} MiB/s)`);
  const snap = serving.room.snapshot();
  assert.equal(snap.machines.filter((m) => m.id.startsWith('52-54-00-00-01-') && m.steps.kernel && m.steps.initrd).length, 50);
});

test('reports from installers reach the room; bad MACs are refused', async () => {
  const ok = await get('/xsbuild/report/52-54-00-00-00-01/done', {}, 'POST');
  assert.equal(ok.status, 200);
  const json = JSON.parse((await get('/status.json')).body.toString()) as { machines: { id: string; state: string; steps: { done: string | null } }[] };
  const m = json.machines.find((x) => x.id === '52-54-00-00-00-01');
  assert.equal(m?.state, 'done');
  assert.ok(m?.steps.done);
  assert.equal((await get('/xsbuild/report/not-a-mac/done', {}, 'POST')).status, 400);
  const page = (await get('/status')).body.toString();
  assert.match(page, /<table>/);
  assert.doesNotMatch(page, /<script/i);
});

test('a second server on the same port says the port is busy', async () => {
  await assert.rejects(startServer({ dir, host: '127.0.0.1', port, log: () => {} }), /already in use/);
});
