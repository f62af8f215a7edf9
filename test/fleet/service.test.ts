// The service's limits, in-process on PGlite: slow clients time out, big bodies are
// refused without being read, nothing is stored from either.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../builder/fleet/db.js';
import { migrate } from '../../builder/fleet/migrations.js';
import { startFleetService, type FleetService } from '../../builder/fleet/service.js';
import { FleetStore } from '../../builder/fleet/store.js';
import { mac, officeKey, post, SimServer } from './helpers.js';

let tmp: string;
let db: Db;
let svc: FleetService;
const log: string[] = [];

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-svc-'));
  db = await openDb(path.join(tmp, 'db'));
  await migrate(db);
  svc = await startFleetService({ store: new FleetStore(db, await officeKey(tmp)), host: '127.0.0.1', port: 0, log: (l) => log.push(l), bodyTimeoutMs: 700 });
});
after(async () => {
  await svc?.close();
  await db?.close();
  await rm(tmp, { recursive: true, force: true });
});

function raw(request: string, waitMs: number): Promise<string> {
  const u = new URL(svc.url);
  return new Promise((resolve) => {
    let got = '';
    const s = connect(Number(u.port), u.hostname, () => s.write(request));
    s.on('data', (c) => (got += c));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    setTimeout(() => s.destroy(), waitMs);
  });
}

test('a client that does not send its body in time gets 408 and the connection closes', async () => {
  const t0 = Date.now();
  const got = await raw('POST /v1/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"signed":', 10_000);
  assert.match(got, /^HTTP\/1\.1 408/);
  assert.ok(Date.now() - t0 < 5000, 'closed soon after the body timeout');
});

test('a body over MAX_FLEET_DOC is refused (413) from its Content-Length, unread', async () => {
  const got = await raw(`POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n{`, 5000);
  assert.match(got, /^HTTP\/1\.1 413/);
  // Chunked, no length: counted while it arrives.
  const r = await fetch(`${svc.url}v1/report`, { method: 'POST', body: new Blob(['x'.repeat(400 * 1024)]) }).then((x) => x.status, () => 413);
  assert.equal(r, 413);
});

test('wrong shapes name the field; nothing is stored from refused requests', async () => {
  const s = new SimServer('rioja', 'escuela-1', [mac(1)]);
  const env = s.enrol();
  (env.signed as unknown as Record<string, unknown>).macs = ['not-a-mac'];
  const r = await post(`${svc.url}v1/enrol`, env);
  assert.equal(r.status, 400);
  assert.match(r.json.error, /signed\.macs\[0\]/);
  const arr = await post(`${svc.url}v1/report`, '[]');
  assert.equal(arr.status, 400);
  assert.match(arr.json.error, /envelope: must be an object/);
  const n = await db.query<{ n: number }>('SELECT (SELECT count(*) FROM enrolments) + (SELECT count(*) FROM reports) AS n');
  assert.equal(n[0].n, 0);
  assert.ok(log.some((l) => /400 signed\.macs\[0\]/.test(l)));
});
