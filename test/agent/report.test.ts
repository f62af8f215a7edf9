import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { main } from '../../agent/cli.js';
import { addNic, makeRoot, runCli, writeConfig, MAC_A } from './fixtures.js';

test('the status is POSTed to report.url; credentials in the URL are never logged', async (t) => {
  const bodies: unknown[] = [];
  const auth: string[] = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(JSON.parse(b));
      auth.push(req.headers.authorization ?? '');
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const root = makeRoot(t);
  addNic(root, { name: 'ens3', mac: MAC_A });
  writeConfig(root, { site: 'rioja', release: '1', hostname: 'xs', roles: [{ name: 'wan', other: true }], report: { url: `http://u:s3cret@127.0.0.1:${port}/status?token=abc` } });
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.equal(r.code, 0, r.out);
  assert.equal(bodies.length, 1);
  const body = bodies[0] as { hostname: string; macs: string[]; status: { result: string; steps: Record<string, { result: string }> } };
  assert.equal(body.hostname, 'xs');
  assert.deepEqual(body.macs, [MAC_A]);
  assert.equal(body.status.result, 'ok');
  assert.equal(body.status.steps.nics!.result, 'ok');
  assert.equal(auth[0], `Basic ${Buffer.from('u:s3cret').toString('base64')}`);
  const status = readFileSync(path.join(root, 'var/lib/xs-agent/status.json'), 'utf8');
  for (const text of [r.out, r.err, status]) {
    assert.doesNotMatch(text, /s3cret|token=abc/);
  }
  assert.match(r.out, new RegExp(`report: status sent to http://\\*\\*\\*@127.0.0.1:${port}/status\\?\\*\\*\\*`));
});

test('an unreachable report URL is recorded, does not fail firstboot, and is bounded', async (t) => {
  const root = makeRoot(t);
  // A listening socket that never answers.
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  writeConfig(root, { site: 'rioja', release: '1', report: { url: `http://127.0.0.1:${port}/status` }, timeouts: { report: 1 } });
  const t0 = Date.now();
  const r = await runCli(main, ['firstboot', '--root', root]);
  assert.ok(Date.now() - t0 < 4000);
  assert.equal(r.code, 0);
  assert.match(r.out, /report: POST http:\/\/127.0.0.1:\d+\/status: no answer within 1 s/);
  const st = await runCli(main, ['status', '--root', root]);
  assert.equal(st.code, 0);
  assert.match(st.out, /report to .*: failed - POST/);
});

test('--no-report sends nothing', async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const root = makeRoot(t);
  writeConfig(root, { site: 'rioja', release: '1', report: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` } });
  const r = await runCli(main, ['firstboot', '--root', root, '--no-report']);
  assert.equal(r.code, 0);
  assert.equal(hits, 0);
  await runCli(main, ['firstboot', '--root', root]);
  assert.equal(hits, 1);
});
