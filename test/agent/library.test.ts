import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { main } from '../../agent/cli.js';
import { makeRoot, runCli, writeConfig } from './fixtures.js';

const base = { site: 'rioja', release: '2024.1' };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An install-media tree with a manifest listing library files (and one that is not library). */
function makeMedia(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    '/library/khan/intro.webm': Buffer.alloc(300_000, 7),
    '/library/wiki/a b.txt': Buffer.from('hello library\n'),
    '/library/empty': Buffer.alloc(0),
    '/images/pxeboot/vmlinuz': Buffer.from('kernel'),
  };
  for (const [p, b] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), b);
  }
  const manifest = { manifestVersion: 1, files: Object.entries(files).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) })) };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return files;
}

function checkCopied(root: string, files: Record<string, Buffer>): void {
  for (const [p, b] of Object.entries(files)) {
    const dest = path.join(root, 'srv/library', p.replace(/^\/library\//, ''));
    if (p.startsWith('/library/')) assert.deepEqual(readFileSync(dest), b, dest);
    else assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.xs-part`), false);
  }
}

interface Served {
  url: string;
  requests: { url: string; range?: string }[];
  /** Called per request; return true when the handler dealt with it itself. */
  hook?: (req: IncomingMessage, res: import('node:http').ServerResponse, data: Buffer) => boolean;
}

async function serve(t: { after: (fn: () => void) => void }, dir: string): Promise<Served> {
  const s: Served = { url: '', requests: [] };
  const server: Server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    s.requests.push({ url: rel, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const p = path.join(dir, rel);
    if (!existsSync(p)) {
      res.writeHead(404).end();
      return;
    }
    const data = readFileSync(p);
    if (s.hook?.(req, res, data)) return;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      if (from >= data.length) return void res.writeHead(416).end();
      res.writeHead(206, { 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` }).end(data.subarray(from));
    } else {
      res.writeHead(200).end(data);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return s;
}

test('library from the install media: only library files, verified, journaled', async (t) => {
  const root = makeRoot(t);
  const files = makeMedia(path.join(root, 'run/install/repo'));
  writeConfig(root, { ...base, library: { source: path.join(root, 'run/install/repo'), dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out + r.err);
  checkCopied(root, files);
  assert.match(r.out, /library: 3 files, 0\.3 MiB from \/tmp\/\S+\/run\/install\/repo to \/srv\/library/);
  assert.match(r.out, /library: 3\/3 files, 0\.3\/0\.3 MiB/);
  const st = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8'));
  assert.match(st.steps.library.notes[0], /3 files .* 3 copied, 0 already there/);
  assert.equal(readFileSync(path.join(root, 'var/lib/xs-agent/library.done'), 'utf8').trim().split('\n').length, 3);
});

test('an interrupted copy resumes from the partial file; files already there are kept', async (t) => {
  const root = makeRoot(t);
  const media = path.join(root, 'media');
  const files = makeMedia(media);
  const big = files['/library/khan/intro.webm']!;
  mkdirSync(path.join(root, 'srv/library/khan'), { recursive: true });
  mkdirSync(path.join(root, 'srv/library/wiki'), { recursive: true });
  writeFileSync(path.join(root, 'srv/library/khan/intro.webm.xs-part'), big.subarray(0, 100_000));
  writeFileSync(path.join(root, 'srv/library/wiki/a b.txt'), files['/library/wiki/a b.txt']!);
  const served = await serve(t, media);
  writeConfig(root, { ...base, library: { source: served.url, dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out + r.err);
  checkCopied(root, files);
  assert.match(r.out, /resuming \/library\/khan\/intro.webm at 100000 of 300000 bytes/);
  assert.deepEqual(served.requests.find((q) => q.url === '/library/khan/intro.webm'), { url: '/library/khan/intro.webm', range: 'bytes=100000-' });
  assert.equal(served.requests.some((q) => q.url === '/library/wiki/a b.txt'), false, 'a verified file is not fetched again');
  const st = JSON.parse(readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8'));
  assert.match(st.steps.library.notes[0], /2 copied, 1 already there/);
});

test('a server that ignores Range restarts the file instead of appending', async (t) => {
  const root = makeRoot(t);
  const media = path.join(root, 'media');
  const files = makeMedia(media);
  mkdirSync(path.join(root, 'srv/library/khan'), { recursive: true });
  writeFileSync(path.join(root, 'srv/library/khan/intro.webm.xs-part'), files['/library/khan/intro.webm']!.subarray(0, 5000));
  const served = await serve(t, media);
  served.hook = (_req, res, data) => (res.writeHead(200).end(data), true);
  writeConfig(root, { ...base, library: { source: served.url, dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out + r.err);
  checkCopied(root, files);
});

test('a file that does not match the manifest fails the step, leaves no part, and a re-run retries', async (t) => {
  const root = makeRoot(t);
  const media = path.join(root, 'run/install/repo');
  const files = makeMedia(media);
  writeFileSync(path.join(media, 'library/wiki/a b.txt'), 'hello librarx\n');
  writeConfig(root, { ...base, library: { source: path.join(root, 'run/install/repo'), dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 1);
  assert.match(r.out, /library: failed - \/library\/wiki\/a b.txt: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}; the source does not match the image manifest/);
  assert.equal(existsSync(path.join(root, 'srv/library/wiki/a b.txt')), false);
  assert.equal(existsSync(path.join(root, 'srv/library/wiki/a b.txt.xs-part')), false);
  assert.equal(existsSync(path.join(root, 'var/lib/xs-agent/stamps/library')), false);
  assert.equal((await runCli(main, ['status', '--root', root])).code, 1);
  writeFileSync(path.join(media, 'library/wiki/a b.txt'), files['/library/wiki/a b.txt']!);
  const r2 = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r2.code, 0, r2.out);
  checkCopied(root, files);
});

test('a stalled server is cut off by the step timeout, and the part is kept for resuming', async (t) => {
  const root = makeRoot(t);
  const media = path.join(root, 'media');
  makeMedia(media);
  const served = await serve(t, media);
  served.hook = (req, res, data) => {
    if (!req.url!.endsWith('intro.webm')) return false;
    res.writeHead(200, { 'content-length': String(data.length) });
    res.write(data.subarray(0, 64 * 1024)); // then stall
    return true;
  };
  writeConfig(root, { ...base, library: { source: served.url, dest: '/srv/library' }, timeouts: { library: 1.5 } });
  const t0 = Date.now();
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.equal(r.code, 1);
  assert.match(r.out, /library: failed - timed out after 1.5 s \(timeouts.library in the config\); a re-run resumes/);
  await new Promise((res) => setTimeout(res, 100));
  const partSize = readFileSync(path.join(root, 'srv/library/khan/intro.webm.xs-part')).length;
  assert.ok(partSize > 0 && partSize < 300_000, `part has ${partSize} bytes`);
});

test('a source that sends more than the manifest size is cut off there, not read to fill the disk', async (t) => {
  const root = makeRoot(t);
  const media = path.join(root, 'media');
  makeMedia(media);
  const served = await serve(t, media);
  served.hook = (req, res, data) => {
    if (!req.url!.endsWith('intro.webm')) return false;
    res.writeHead(200);
    const pump = () => {
      while (!res.destroyed && res.write(data));
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('error', () => undefined);
    pump();
    return true;
  };
  writeConfig(root, { ...base, library: { source: served.url, dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 1);
  assert.match(r.out, /library: failed - \/library\/khan\/intro.webm: the source sent more than the \d+ bytes the image manifest gives it/);
  assert.equal(existsSync(path.join(root, 'srv/library/khan/intro.webm.xs-part')), false);
});

test('manifest errors name the manifest and the field', async (t) => {
  const root = makeRoot(t);
  mkdirSync(path.join(root, 'm'), { recursive: true });
  writeFileSync(path.join(root, 'm/manifest.json'), JSON.stringify({ manifestVersion: 1, files: [{ path: '/library/../etc/shadow', size: 1, sha256: 'a'.repeat(64) }] }));
  writeConfig(root, { ...base, library: { source: path.join(root, 'm'), dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 1);
  assert.match(r.out, /-\w+\/m\/manifest.json: files\[0\]\.path: "\/library\/\.\.\/etc\/shadow" must not contain/);
  writeFileSync(path.join(root, 'm/manifest.json'), JSON.stringify({ manifestVersion: 9, files: [] }));
  assert.match((await runCli(main, ['firstboot', '--root', root])).out, /manifestVersion is 9, this agent reads 1/);
});

test('--library-source overrides the configured source', async (t) => {
  const root = makeRoot(t);
  const files = makeMedia(path.join(root, 'media'));
  writeConfig(root, { ...base, library: { source: 'http://127.0.0.1:9/unreachable', dest: '/srv/library' } });
  const r = await runCli(main, ['firstboot', '--root', root, '--steps', 'library', '--library-source', path.join(root, 'media')]);
  assert.equal(r.code, 0, r.out + r.err);
  checkCopied(root, files);
  writeConfig(root, { ...base });
  assert.match((await runCli(main, ['firstboot', '--root', root, '--library-source', '/x'])).err, /has no "library" section/);
});
