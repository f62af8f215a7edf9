// The fleet database's schema as data: numbered migrations, applied in order, each in
// the same transaction as its row in schema_migrations, so a database is always at
// exactly one version. The list only ever grows; a released migration is never edited.
import type { Db } from './db.js';
import { BuildError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'hosts, enrolments, tokens, reports, events',
    sql: `
CREATE TABLE hosts (
  site text NOT NULL,
  host text NOT NULL,
  -- pending: heard of, not approved; approved: keys pinned; rejected: a person said no
  state text NOT NULL,
  signing_key text,
  seal_key text,
  macs jsonb NOT NULL DEFAULT '[]',
  machine_id text,
  -- role -> MAC / bootif / other, from the site's machine record (fleet tokens)
  nics jsonb,
  approved_by text,
  approved_at timestamptz,
  approval jsonb,
  -- a second enrolment reused this host's spent token: a person must settle it
  conflict boolean NOT NULL DEFAULT false,
  release text,
  version bigint,
  agent_version text,
  last_seen timestamptz,
  last_channel text,
  last_import_at timestamptz,
  last_result text,
  last_error text,
  last_hint text,
  last_report_at text,
  last_seq bigint,
  first_seen timestamptz NOT NULL,
  updated timestamptz NOT NULL,
  PRIMARY KEY (site, host)
);
CREATE INDEX hosts_state ON hosts (state, site, host);

CREATE TABLE enrolments (
  id bigserial PRIMARY KEY,
  doc_sha256 text NOT NULL UNIQUE,
  site text NOT NULL,
  host text NOT NULL,
  signing_key text NOT NULL,
  seal_key text NOT NULL,
  macs jsonb NOT NULL,
  machine_id text NOT NULL,
  release text NOT NULL,
  version bigint,
  agent_version text NOT NULL,
  with_token boolean NOT NULL,
  -- pending | approved | rejected | conflict | superseded | repeat
  status text NOT NULL,
  message text,
  channel text NOT NULL,
  received timestamptz NOT NULL,
  envelope jsonb NOT NULL
);
CREATE INDEX enrolments_host ON enrolments (site, host, id);
CREATE INDEX enrolments_status ON enrolments (status, id);

CREATE TABLE tokens (
  sha256 text PRIMARY KEY,
  site text NOT NULL,
  host text NOT NULL,
  macs jsonb NOT NULL,
  nics jsonb,
  issued timestamptz NOT NULL,
  expires timestamptz NOT NULL,
  spent timestamptz,
  spent_key text,
  revoked timestamptz
);
CREATE INDEX tokens_host ON tokens (site, host);

CREATE TABLE reports (
  id bigserial PRIMARY KEY,
  doc_sha256 text NOT NULL UNIQUE,
  site text NOT NULL,
  host text NOT NULL,
  -- trusted | untrusted | replay
  trust text NOT NULL,
  reason text,
  seq bigint,
  signing_key text,
  result text,
  at text,
  channel text NOT NULL,
  received timestamptz NOT NULL,
  envelope jsonb NOT NULL
);
CREATE INDEX reports_host ON reports (site, host, id);

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  site text NOT NULL,
  host text NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  message text NOT NULL
);
CREATE INDEX events_host ON events (site, host, id);
`,
  },
];

/** Brings the database to the newest version; returns the versions it applied. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL)`);
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.tx(async (q) => {
      // Several service instances may start at once against one PostgreSQL: the lock
      // makes the check-and-apply one step (it is released at COMMIT).
      await q.query('SELECT pg_advisory_xact_lock(727001)');
      const have = await q.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (have.length) return false;
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, now())', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  const newest = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_migrations');
  const known = migrations[migrations.length - 1]?.version ?? 0;
  if ((newest[0]?.v ?? 0) > known) {
    throw new BuildError(`the fleet database ${db.where} is at schema version ${newest[0].v}, newer than this xsbuild knows (${known})`, 'use the xsbuild that last wrote it, or a newer one');
  }
  return applied;
}
