// kill -9 of `xsbuild fleet serve` during a burst of reports: after a restart, every
// report that got a 2xx answer is in the database (PGlite and PostgreSQL).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../builder/fleet/db.js';
import { migrate } from '../../builder/fleet/migrations.js';
import { documentId } from '../../builder/fleet/documents.js';
import { FleetStore } from '../../builder/fleet/store.js';
import type { SigningKey } from '../../builder/updates/keys.js';
import { CLI } from '../helpers/project.js';
import { freePort } from '../helpers/net.js';
import { mac, officeKey, post, postgresMissing, SimServer, startPostgres, startServe, type Postgres } from './helpers.js';

const HOSTS = 20;

for (const engine of [{ name: 'pglite' }, { name: 'postgres', skip: postgresMissing() }]) {
  describe(`durability on ${engine.name}`, { skip: engine.skip }, () => {
    let tmp: string;
    let pg: Postgres | undefined;
    let dbSpec: string;
    let key: SigningKey;
    before(async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-kill-'));
      if (engine.name === 'postgres') pg = await startPostgres();
      dbSpec = pg ? pg.url : path.join(tmp, 'fleet-db');
      key = await officeKey(tmp);
    });
    after(async () => {
      await pg?.stop();
      await rm(tmp, { recursive: true, force: true });
    });

    test('kill -9 during a burst loses no acknowledged report', async (t) => {
      const servers = Array.from({ length: HOSTS }, (_, i) => new SimServer('rioja', `escuela-${i}`, [mac(i)]));
      const d = await openDb(dbSpec);
      await migrate(d);
      const tokens = await new FleetStore(d).issueTokens('rioja', servers.map((s) => ({ host: s.host, macs: s.macs })), new Date(Date.now() + 86400_000), new Date());
      await d.close();

      const port = await freePort();
      const serve = await startServe(CLI, ['--db', dbSpec, '--listen', `127.0.0.1:${port}`, '--key', key.file]);
      for (const [i, s] of servers.entries()) assert.equal((await post(`${serve.url}v1/enrol`, s.enrol(tokens[i].token))).json.status, 'approved');

      const acked: string[] = [];
      let sent = 0;
      let stop = false;
      const senders = servers.map(async (s) => {
        while (!stop) {
          const env = s.report({ result: 'applied' });
          sent++;
          try {
            const r = await fetch(`${serve.url}v1/report`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(env) });
            if (r.status >= 200 && r.status < 300) acked.push(documentId(env));
            await r.arrayBuffer();
          } catch {
            return; // the service is gone
          }
        }
      });
      // Kill once the burst is well under way.
      while (acked.length < 150) await new Promise((r) => setTimeout(r, 20));
      serve.child.kill('SIGKILL');
      await new Promise((r) => serve.child.once('exit', r));
      stop = true;
      await Promise.all(senders);
      assert.ok(sent > acked.length, 'some reports were in flight at the kill');

      // Restart the service on the same data (takes over the dead process's lock), then check.
      const again = await startServe(CLI, ['--db', dbSpec, '--listen', `127.0.0.1:${port}`, '--key', key.file]);
      assert.equal(await again.stop(), 0);
      const check = await openDb(dbSpec);
      try {
        const rows = await check.query<{ doc_sha256: string; trust: string }>('SELECT doc_sha256, trust FROM reports');
        const have = new Map(rows.map((r) => [r.doc_sha256, r.trust]));
        const lost = acked.filter((id) => have.get(id) !== 'trusted');
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged reports lost`);
        t.diagnostic(`${engine.name}: ${acked.length} acknowledged of ${sent} sent, ${rows.length} stored, none lost`);
      } finally {
        await check.close();
      }
    });
  });
}
