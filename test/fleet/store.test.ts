// The fleet store's rules, on PGlite and on a real PostgreSQL server: the same SQL,
// the same answers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { countValid } from '../../agent/pull/sign.js';
import { openDb, type Db } from '../../builder/fleet/db.js';
import { migrate, MIGRATIONS } from '../../builder/fleet/migrations.js';
import { FleetStore } from '../../builder/fleet/store.js';
import type { SigningKey } from '../../builder/updates/keys.js';
import { mac, officeKey, postgresMissing, SimServer, startPostgres, type Postgres } from './helpers.js';

const engines: { name: string; skip?: string }[] = [{ name: 'pglite' }, { name: 'postgres', skip: postgresMissing() }];

for (const engine of engines) {
  describe(`fleet store on ${engine.name}`, { skip: engine.skip }, () => {
    let tmp: string;
    let pg: Postgres | undefined;
    let db: Db;
    let store: FleetStore;
    let key: SigningKey;
    const now = () => new Date();
    const net = () => ({ channel: 'network' as const, now: now() });

    before(async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-store-'));
      if (engine.name === 'postgres') pg = await startPostgres();
      db = await openDb(pg ? pg.url : path.join(tmp, 'db'));
      key = await officeKey(tmp);
      store = new FleetStore(db, key);
    });
    after(async () => {
      await db?.close();
      await pg?.stop();
      await rm(tmp, { recursive: true, force: true });
    });

    test('migrations are applied once and recorded', async () => {
      assert.deepEqual(await migrate(db), MIGRATIONS.map((m) => m.version));
      assert.deepEqual(await migrate(db), []);
      const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    });

    test('a failing migration leaves nothing behind', async () => {
      const bad = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_function();' }];
      await assert.rejects(migrate(db, bad));
      const t = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
      assert.equal(t.length, 0);
      assert.equal((await db.query('SELECT 1 FROM schema_migrations WHERE version = 99')).length, 0);
    });

    test('a token proves the enrolment: approved at once, signed by the office key', async () => {
      const s = new SimServer('rioja', 'escuela-1', [mac(1), mac(1, 1)]);
      const [tok] = await store.issueTokens('rioja', [{ host: 'escuela-1', macs: [mac(1)], nics: { wan: mac(1), lan: 'other' } }], new Date(Date.now() + 86400_000), now());
      const a = await store.enrol(s.enrol(tok.token), net());
      assert.equal(a.status, 'approved');
      assert.ok(a.approval);
      assert.equal(countValid(a.approval, { [key.keyid]: key.publicKey }), 1);
      assert.equal(a.approval.signed.signingKey, s.publicKey);
      assert.equal(a.approval.signed.by, 'token');
      const h = await store.host('rioja', 'escuela-1');
      assert.equal(h?.state, 'approved');
      assert.equal(h?.signing_key, s.publicKey);
      assert.deepEqual(h?.nics, { wan: mac(1), lan: 'other' });
      const tokens = await db.query<{ sha256: string }>('SELECT sha256 FROM tokens');
      assert.ok(tokens.every((t) => t.sha256 !== tok.token && /^[0-9a-f]{64}$/.test(t.sha256)), 'only sha256 of a token is kept');

      // The agent retries until it sees approved: the same approval again.
      const again = await store.enrol(s.enrol(tok.token), net());
      assert.equal(again.status, 'approved');
      assert.deepEqual(again.approval, a.approval);

      // A second key with the spent token: a conflict for a person; the pin stays.
      const thief = new SimServer('rioja', 'escuela-1', [mac(1)]);
      const c = await store.enrol(thief.enrol(tok.token), net());
      assert.equal(c.status, 'conflict');
      assert.equal(c.approval, undefined);
      const h2 = await store.host('rioja', 'escuela-1');
      assert.equal(h2?.signing_key, s.publicKey);
      assert.equal(h2?.conflict, true);
      assert.equal((await store.waiting()).rows.filter((w) => w.status === 'conflict' && w.signing_key === thief.publicKey).length, 1);
    });

    test('a token bound to other MACs, or to another host, is refused and pins nothing', async () => {
      const [tok] = await store.issueTokens('rioja', [{ host: 'escuela-2', macs: [mac(2)] }], new Date(Date.now() + 86400_000), now());
      const wrongMac = new SimServer('rioja', 'escuela-2', [mac(99)]);
      const a = await store.enrol(wrongMac.enrol(tok.token), net());
      assert.equal(a.status, 'rejected');
      assert.equal(await store.host('rioja', 'escuela-2'), undefined);
      const otherHost = new SimServer('rioja', 'escuela-3', [mac(2)]);
      const b = await store.enrol(otherHost.enrol(tok.token), net());
      assert.equal(b.status, 'rejected');
      assert.equal(await store.host('rioja', 'escuela-3'), undefined);
      const unknown = await store.enrol(otherHost.enrol('A'.repeat(43)), net());
      assert.equal(unknown.status, 'rejected');
      // Still unspent: the right machine can use it.
      const right = new SimServer('rioja', 'escuela-2', [mac(2)]);
      assert.equal((await store.enrol(right.enrol(tok.token), net())).status, 'approved');
      const attempts = await db.query<{ status: string }>(`SELECT status FROM enrolments WHERE status = 'rejected'`);
      assert.ok(attempts.length >= 3, 'refused attempts are recorded');
    });

    test('a stick imported without the office key, then with it: the token approves the same request', async () => {
      const [tok] = await store.issueTokens('rioja', [{ host: 'escuela-8', macs: [mac(8)] }], new Date(Date.now() + 86400_000), now());
      const s = new SimServer('rioja', 'escuela-8', [mac(8)]);
      const env = s.enrol(tok.token);
      const first = await new FleetStore(db).enrol(env, { channel: 'stick', now: now() });
      assert.equal(first.status, 'pending');
      assert.match(first.message ?? '', /--key/);
      const again = await store.enrol(env, { channel: 'stick', now: now() });
      assert.equal(again.status, 'approved');
      assert.equal(again.duplicate, false);
      const third = await store.enrol(env, { channel: 'stick', now: now() });
      assert.equal(third.status, 'approved');
      assert.equal(third.duplicate, true);
      assert.equal((await db.query('SELECT 1 FROM enrolments WHERE site = $1 AND host = $2', ['rioja', 'escuela-8'])).length, 1, 'one row for one document');
    });

    test('an expired token waits for a person', async () => {
      const [tok] = await store.issueTokens('rioja', [{ host: 'escuela-4', macs: [mac(4)] }], new Date(Date.now() - 1000), new Date(Date.now() - 2000));
      const s = new SimServer('rioja', 'escuela-4', [mac(4)]);
      assert.equal((await store.enrol(s.enrol(tok.token), net())).status, 'pending');
    });

    test('no token: pending until a person approves; reject keeps the key out', async () => {
      const s = new SimServer('paraguay', 'escuela-5', [mac(5)]);
      const first = await store.enrol(s.enrol(), net());
      assert.equal(first.status, 'pending');
      assert.equal((await store.host('paraguay', 'escuela-5'))?.state, 'pending');
      assert.equal((await store.hosts({ state: 'pending', site: 'paraguay' })).total, 1);
      const { approval } = await store.approve('paraguay', 'escuela-5', now());
      assert.equal(approval.signed.by, 'operator');
      assert.equal(countValid(approval, { [key.keyid]: key.publicKey }), 1);
      const again = await store.enrol(s.enrol(), net());
      assert.equal(again.status, 'approved');
      assert.deepEqual(again.approval, approval);

      const r = new SimServer('paraguay', 'escuela-6', [mac(6)]);
      await store.enrol(r.enrol(), net());
      assert.equal(await store.reject('paraguay', 'escuela-6', now()), 1);
      assert.equal((await store.host('paraguay', 'escuela-6'))?.state, 'rejected');
      assert.equal((await store.enrol(r.enrol(), net())).status, 'rejected');
      await assert.rejects(store.approve('paraguay', 'escuela-6', now()), /no enrolment waiting/);
    });

    test('reports: trusted from the pinned key; other keys, replays and unknown hosts are not', async () => {
      const s = new SimServer('rioja', 'escuela-7', [mac(7)]);
      const [tok] = await store.issueTokens('rioja', [{ host: 'escuela-7', macs: [mac(7)] }], new Date(Date.now() + 86400_000), now());
      assert.equal((await store.enrol(s.enrol(tok.token), net())).status, 'approved');
      const ok = s.report({ result: 'failed', error: 'packages: dnf exited with 1' });
      const [a] = await store.recordReports([{ env: ok, r: net() }]);
      assert.equal(a.trust, 'trusted');
      let h = await store.host('rioja', 'escuela-7');
      assert.equal(h?.last_result, 'failed');
      assert.equal(h?.last_error, 'packages: dnf exited with 1');
      assert.equal(h?.last_seq, s.seq);
      assert.equal((await store.hosts({ text: 'dnf exited' })).rows[0]?.host, 'escuela-7', 'the text filter finds a failing step');

      const [dup] = await store.recordReports([{ env: ok, r: net() }]);
      assert.equal(dup.duplicate, true);
      assert.equal(await store.reportCount('rioja', 'escuela-7'), 1);

      const mallory = new SimServer('rioja', 'escuela-7', [mac(7)]);
      const [forged] = await store.recordReports([{ env: s.report({ result: 'applied' }, mallory), r: net() }]);
      assert.equal(forged.trust, 'untrusted');
      const replayed = s.report({ seq: 1, result: 'applied' });
      const [rep] = await store.recordReports([{ env: replayed, r: net() }]);
      assert.equal(rep.trust, 'replay');
      h = await store.host('rioja', 'escuela-7');
      assert.equal(h?.last_result, 'failed', 'nothing untrusted changed the host');

      const stranger = new SimServer('rioja', 'nobody', [mac(88)]);
      const [unk] = await store.recordReports([{ env: stranger.report(), r: net() }]);
      assert.equal(unk.trust, 'untrusted');
      assert.equal(await store.host('rioja', 'nobody'), undefined);

      // A batch keeps each host's order: seq 10 then 11 both trusted, 11 is last.
      s.seq = 9;
      const outs = await store.recordReports([{ env: s.report({ result: 'applied' }), r: net() }, { env: s.report({ result: 'up-to-date' }), r: net() }]);
      assert.deepEqual(outs.map((o) => o.trust), ['trusted', 'trusted']);
      assert.equal((await store.host('rioja', 'escuela-7'))?.last_result, 'up-to-date');
      assert.equal(await store.reportCount('rioja', 'escuela-7', 'trusted'), 3);
      const hist = await store.history('rioja', 'escuela-7');
      assert.ok(hist.some((e) => e.kind === 'replay') && hist.some((e) => e.kind === 'untrusted-report'));
    });

    test('paging and filters', async () => {
      const page = await store.hosts({ limit: 2, offset: 0 });
      assert.equal(page.rows.length, 2);
      assert.ok(page.total >= 4);
      assert.deepEqual((await store.hosts({ text: 'cuela-7' })).rows.map((r) => r.host), ['escuela-7']);
      assert.equal((await store.hosts({ text: '100%_' })).total, 0);
      assert.equal((await store.hosts({ state: 'conflict' })).rows[0]?.host, 'escuela-1');
    });
  });
}
