// What the central office knows about its servers, and the rules that decide what is
// trusted. Every change is one transaction; a per-host advisory lock (same SQL on
// PGlite and PostgreSQL) serialises the decisions about one host, also between several
// service instances on one PostgreSQL server.
import { randomBytes } from 'node:crypto';
import { signDoc, type Envelope } from '../../agent/pull/sign.js';
import { FLEET_SPEC, type Approval, type EnrolAnswer, type EnrolRequest, type EnrolState } from '../../agent/fleet/wire.js';
import type { SigningKey } from '../updates/keys.js';
import type { Db, Queryable } from './db.js';
import { documentId, sha256Hex, signedBy, type FleetReport } from './documents.js';

export type Channel = 'network' | 'stick';

export interface Received {
  channel: Channel;
  /** When the service received it (network) or the stick was imported. */
  now: Date;
}

export type Trust = 'trusted' | 'untrusted' | 'replay';

export interface ReportOutcome {
  id: string;
  trust: Trust;
  reason?: string;
  /** The same document was already stored: nothing changed. */
  duplicate: boolean;
}

export interface EnrolOutcome extends EnrolAnswer {
  duplicate: boolean;
}

export interface HostRow {
  site: string;
  host: string;
  state: string;
  signing_key: string | null;
  seal_key: string | null;
  macs: string[];
  machine_id: string | null;
  nics: Record<string, string> | null;
  approved_by: string | null;
  approved_at: Date | null;
  approval: Envelope<Approval> | null;
  conflict: boolean;
  release: string | null;
  version: number | null;
  agent_version: string | null;
  last_seen: Date | null;
  last_channel: Channel | null;
  last_import_at: Date | null;
  last_result: string | null;
  last_error: string | null;
  last_hint: string | null;
  last_report_at: string | null;
  last_seq: number | null;
  first_seen: Date;
}

export interface EnrolmentRow {
  id: number;
  site: string;
  host: string;
  signing_key: string;
  seal_key: string;
  macs: string[];
  machine_id: string;
  release: string;
  agent_version: string;
  with_token: boolean;
  status: string;
  message: string | null;
  channel: Channel;
  received: Date;
}

export interface EventRow {
  id: number;
  at: Date;
  kind: string;
  message: string;
}

export interface HostFilter {
  site?: string;
  state?: string;
  text?: string;
  limit?: number;
  offset?: number;
}

export interface IssuedToken {
  host: string;
  token: string;
  expires: string;
}

const HOST_COLUMNS = `site, host, state, signing_key, seal_key, macs, machine_id, nics, approved_by, approved_at, approval, conflict, release, version,
  agent_version, last_seen, last_channel, last_import_at, last_result, last_error, last_hint, last_report_at, last_seq, first_seen`;
const ENROLMENT_COLUMNS = 'id, site, host, signing_key, seal_key, macs, machine_id, release, agent_version, with_token, status, message, channel, received';

async function event(q: Queryable, site: string, host: string, now: Date, kind: string, message: string): Promise<void> {
  await q.query('INSERT INTO events (site, host, at, kind, message) VALUES ($1, $2, $3, $4, $5)', [site, host, now.toISOString(), kind, message.slice(0, 2000)]);
}

function short(key: string): string {
  return key.slice(0, 8);
}

export class FleetStore {
  constructor(
    readonly db: Db,
    /** The office key: signs approvals. Without it nothing can be approved (import without --key). */
    private readonly officeKey?: SigningKey,
  ) {}

  /**
   * Takes the per-host lock for the rest of the transaction. PGlite needs none: one
   * process owns the directory and runs one transaction at a time.
   */
  private async lockHost(q: Queryable, site: string, host: string): Promise<void> {
    if (this.db.engine === 'postgres') await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${site}/${host}`]);
  }

  private sign(req: EnrolRequest, by: Approval['by'], now: Date): Envelope<Approval> {
    if (!this.officeKey) throw new Error('no office key to sign the approval');
    const approval: Approval = {
      _type: 'xs-approval',
      spec: FLEET_SPEC,
      site: req.site,
      host: req.host,
      signingKey: req.signingKey,
      sealKey: req.sealKey,
      macs: [...req.macs].sort(),
      by,
      approved: now.toISOString(),
    };
    return signDoc(approval, [{ publicKey: this.officeKey.publicKey, privateKey: this.officeKey.privateKey }]);
  }

  /** An enrolment request whose envelope is already known to be signed by its own signingKey. */
  async enrol(env: Envelope<EnrolRequest>, r: Received): Promise<EnrolOutcome> {
    const req = env.signed;
    const id = documentId(env);
    return this.db.tx(async (q) => {
      await this.lockHost(q, req.site, req.host);
      const seen = await q.query<{ status: string }>('SELECT status FROM enrolments WHERE doc_sha256 = $1', [id]);
      const host = (await q.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts WHERE site = $1 AND host = $2`, [req.site, req.host]))[0];
      const seenStatus = seen[0]?.status;
      // The same document again (a stick imported twice, a retry) keeps its one row; its
      // status follows the decision (e.g. a token checked now that the office key is given).
      const record = async (status: string, message?: string): Promise<boolean> => {
        if (seen.length) {
          if (seenStatus !== status) await q.query('UPDATE enrolments SET status = $2, message = $3 WHERE doc_sha256 = $1', [id, status, message ?? null]);
          return false;
        }
        await q.query(
          `INSERT INTO enrolments (doc_sha256, site, host, signing_key, seal_key, macs, machine_id, release, version, agent_version, with_token, status, message, channel, received, envelope)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (doc_sha256) DO NOTHING`,
          [id, req.site, req.host, req.signingKey, req.sealKey, JSON.stringify(req.macs), req.machineId, req.release, req.version, req.agentVersion, req.token !== undefined, status, message ?? null, r.channel, r.now.toISOString(), JSON.stringify(env)],
        );
        return true;
      };
      const answer = (status: EnrolState, message?: string, approval?: Envelope<Approval>): EnrolOutcome => ({ status, ...(approval ? { approval } : {}), ...(message ? { message } : {}), duplicate: seen.length > 0 && (seenStatus === status || (seenStatus === 'repeat' && status === 'approved')) });

      // The agent retries until it sees "approved": the same key gets the same approval.
      if (host?.state === 'approved' && host.signing_key === req.signingKey && host.approval) {
        await record('repeat');
        await q.query('UPDATE hosts SET last_seen = greatest(last_seen, $3), updated = $3 WHERE site = $1 AND host = $2', [req.site, req.host, r.now.toISOString()]);
        return answer('approved', undefined, host.approval);
      }
      const refusedBefore = await q.query('SELECT 1 FROM enrolments WHERE site = $1 AND host = $2 AND signing_key = $3 AND status = $4 LIMIT 1', [req.site, req.host, req.signingKey, 'rejected']);
      if (refusedBefore.length && seenStatus !== 'approved') {
        await record('rejected', 'this key was rejected before');
        return answer('rejected', 'this server key was rejected at the central office');
      }
      if (seenStatus === 'rejected' || seenStatus === 'conflict') return answer(seenStatus);

      let pendingWhy = 'waiting for a person to approve it at the central office';
      if (req.token !== undefined) {
        const tok = (
          await q.query<{ site: string; host: string; macs: string[]; nics: Record<string, string> | null; expires: Date; spent: Date | null; spent_key: string | null; revoked: Date | null }>(
            'SELECT site, host, macs, nics, expires, spent, spent_key, revoked FROM tokens WHERE sha256 = $1 FOR UPDATE',
            [sha256Hex(req.token)],
          )
        )[0];
        const refuse = async (why: string) => {
          await record('rejected', why);
          await event(q, req.site, req.host, r.now, 'enrol-refused', `enrolment refused (key ${short(req.signingKey)}, ${r.channel}): ${why}`);
          return answer('rejected', why);
        };
        if (!tok || tok.revoked) return refuse('the enrolment token is not known at the central office');
        if (tok.site !== req.site || tok.host !== req.host) return refuse('the enrolment token belongs to another server');
        if (!tok.macs.some((m) => req.macs.includes(m))) return refuse("the enrolment token is bound to another machine's MAC addresses");
        if (tok.spent && tok.spent_key !== req.signingKey) {
          const why = 'the enrolment token was already used by another key; a person must settle this at the central office';
          await record('conflict', why);
          await q.query('UPDATE hosts SET conflict = true, updated = $3 WHERE site = $1 AND host = $2', [req.site, req.host, r.now.toISOString()]);
          await event(q, req.site, req.host, r.now, 'conflict', `spent enrolment token used again by key ${short(req.signingKey)} (${r.channel})`);
          return answer('conflict', why);
        }
        if (tok.expires.getTime() < r.now.getTime()) pendingWhy = 'the enrolment token has expired; waiting for a person to approve it';
        else if (!this.officeKey) pendingWhy = 'the enrolment token was not checked (import without the office key); import again with --key or approve by hand';
        else if (!tok.spent) {
          const approval = this.sign(req, 'token', r.now);
          await q.query('UPDATE tokens SET spent = $2, spent_key = $3 WHERE sha256 = $1', [sha256Hex(req.token), r.now.toISOString(), req.signingKey]);
          await record('approved', 'approved by install-time token');
          await this.pin(q, req, approval, tok.nics, r);
          await event(q, req.site, req.host, r.now, 'approved', `approved by install-time token (key ${short(req.signingKey)}, ${r.channel})`);
          return answer('approved', undefined, approval);
        }
      }
      // A newer request from the same key replaces an older pending one.
      if (!seen.length) {
        await q.query(`UPDATE enrolments SET status = 'superseded' WHERE site = $1 AND host = $2 AND signing_key = $3 AND status = 'pending'`, [req.site, req.host, req.signingKey]);
      }
      const fresh = await record('pending', pendingWhy);
      await q.query(
        `INSERT INTO hosts (site, host, state, macs, machine_id, release, version, agent_version, last_seen, last_channel, last_import_at, first_seen, updated)
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $8, $8) ON CONFLICT (site, host) DO NOTHING`,
        [req.site, req.host, JSON.stringify(req.macs), req.machineId, req.release, req.version, req.agentVersion, r.now.toISOString(), r.channel, r.channel === 'stick' ? r.now.toISOString() : null],
      );
      if (fresh) await event(q, req.site, req.host, r.now, 'enrol-pending', `enrolment request (key ${short(req.signingKey)}, ${r.channel}${req.token !== undefined ? ', token' : ''}): ${pendingWhy}`);
      return answer('pending', pendingWhy);
    });
  }

  /** Pins the request's keys: the host is approved with them from now on. */
  private async pin(q: Queryable, req: EnrolRequest, approval: Envelope<Approval>, nics: Record<string, string> | null, r: Received): Promise<void> {
    const now = r.now.toISOString();
    await q.query(
      `INSERT INTO hosts (site, host, state, signing_key, seal_key, macs, machine_id, nics, approved_by, approved_at, approval, conflict, release, version, agent_version, last_seq, first_seen, updated, last_seen, last_channel, last_import_at)
       VALUES ($1, $2, 'approved', $3, $4, $5, $6, $7, $8, $9, $10, false, $11, $12, $13, NULL, $9, $9, $9, $14, $15)
       ON CONFLICT (site, host) DO UPDATE SET state = 'approved', signing_key = $3, seal_key = $4, macs = $5, machine_id = $6, nics = coalesce($7, hosts.nics),
         approved_by = $8, approved_at = $9, approval = $10, conflict = false, release = coalesce(hosts.release, $11), agent_version = $13, last_seq = NULL, updated = $9`,
      [req.site, req.host, req.signingKey, req.sealKey, JSON.stringify(req.macs), req.machineId, nics ? JSON.stringify(nics) : null, approval.signed.by, now, JSON.stringify(approval), req.release, req.version, req.agentVersion, r.channel, r.channel === 'stick' ? now : null],
    );
    await q.query(`UPDATE enrolments SET status = 'superseded' WHERE site = $1 AND host = $2 AND status IN ('pending', 'conflict')`, [req.site, req.host]);
  }

  /**
   * A person approves a pending (or conflicting) enrolment: the newest one of the host,
   * or the one given by id. Refuses when several keys wait and no id says which.
   */
  async approve(site: string, host: string, now: Date, enrolmentId?: number): Promise<{ approval: Envelope<Approval>; enrolment: number }> {
    return this.db.tx(async (q) => {
      await this.lockHost(q, site, host);
      const waiting = await q.query<{ id: number; signing_key: string; envelope: Envelope<EnrolRequest> }>(
        `SELECT id, signing_key, envelope FROM enrolments WHERE site = $1 AND host = $2 AND status IN ('pending', 'conflict') ORDER BY id DESC`,
        [site, host],
      );
      const pick = enrolmentId !== undefined ? waiting.find((w) => w.id === enrolmentId) : waiting[0];
      if (!pick) throw new FleetStateError(enrolmentId !== undefined ? `${site}/${host} has no waiting enrolment ${enrolmentId}` : `${site}/${host} has no enrolment waiting for approval`);
      if (enrolmentId === undefined && new Set(waiting.map((w) => w.signing_key)).size > 1) {
        throw new FleetStateError(`${site}/${host} has enrolments from ${new Set(waiting.map((w) => w.signing_key)).size} different keys waiting (ids ${waiting.map((w) => w.id).join(', ')})`, 'say which one with --enrolment ID (xsbuild fleet list --site S shows them)');
      }
      const req = pick.envelope.signed;
      const approval = this.sign(req, 'operator', now);
      const nics = (await q.query<{ nics: Record<string, string> | null }>('SELECT nics FROM tokens WHERE site = $1 AND host = $2 ORDER BY issued DESC LIMIT 1', [site, host]))[0]?.nics ?? null;
      await this.pin(q, req, approval, nics, { channel: 'network', now });
      await q.query(`UPDATE enrolments SET status = 'approved', message = 'approved by a person' WHERE id = $1`, [pick.id]);
      await event(q, site, host, now, 'approved', `approved by a person (key ${short(req.signingKey)})`);
      return { approval, enrolment: pick.id };
    });
  }

  /** A person rejects the waiting enrolments of a host; an approved host keeps its pinned key. */
  async reject(site: string, host: string, now: Date, enrolmentId?: number): Promise<number> {
    return this.db.tx(async (q) => {
      await this.lockHost(q, site, host);
      const rows = await q.query<{ id: number }>(
        `UPDATE enrolments SET status = 'rejected', message = 'rejected by a person' WHERE site = $1 AND host = $2 AND status IN ('pending', 'conflict') AND ($3::bigint IS NULL OR id = $3) RETURNING id`,
        [site, host, enrolmentId ?? null],
      );
      if (!rows.length) throw new FleetStateError(`${site}/${host} has no enrolment waiting for approval`);
      await q.query(`UPDATE hosts SET state = CASE WHEN state = 'approved' THEN state ELSE 'rejected' END, conflict = false, updated = $3 WHERE site = $1 AND host = $2`, [site, host, now.toISOString()]);
      await event(q, site, host, now, 'rejected', `rejected by a person (${rows.length} enrolment${rows.length > 1 ? 's' : ''})`);
      return rows.length;
    });
  }

  /**
   * Stores a batch of reports in one transaction (the service groups the reports that
   * arrive together: one commit for many). The batch costs four statements however
   * many reports it holds: at hundreds of reports a second, statements are what PGlite's
   * throughput is made of. The decisions are made here, in order, per host.
   */
  async recordReports(items: { env: Envelope<FleetReport>; r: Received }[]): Promise<ReportOutcome[]> {
    if (!items.length) return [];
    const ids = items.map((it) => documentId(it.env));
    const keys = [...new Set(items.map((it) => `${it.env.signed.site}/${it.env.signed.host}`))].sort();
    return this.db.tx(async (q) => {
      if (this.db.engine === 'postgres') {
        // Every host of the batch, in one global order, so two batches never deadlock.
        await q.query('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) sorted', [keys]);
      }
      const dups = new Map(
        (await q.query<{ doc_sha256: string; trust: Trust; reason: string | null }>('SELECT doc_sha256, trust, reason FROM reports WHERE doc_sha256 = ANY($1::text[])', [ids])).map((d) => [d.doc_sha256, d]),
      );
      const hosts = new Map(
        (
          await q.query<{ site: string; host: string; state: string; signing_key: string | null; last_seq: number | null; last_report_at: string | null }>(
            `SELECT h.site, h.host, h.state, h.signing_key, h.last_seq, h.last_report_at FROM hosts h JOIN unnest($1::text[]) AS k ON h.site || '/' || h.host = k`,
            [keys],
          )
        ).map((h) => [`${h.site}/${h.host}`, h]),
      );
      const reports: unknown[][] = [];
      const events: unknown[][] = [];
      const updates = new Map<string, unknown[]>();
      const out: ReportOutcome[] = [];
      items.forEach((it, i) => {
        const { env, r } = it;
        const doc = env.signed;
        const id = ids[i];
        const dup = dups.get(id);
        if (dup) {
          out.push({ id, trust: dup.trust, ...(dup.reason ? { reason: dup.reason } : {}), duplicate: true });
          return;
        }
        const h = hosts.get(`${doc.site}/${doc.host}`);
        let trust: Trust = 'trusted';
        let reason: string | undefined;
        if (!h || h.state !== 'approved' || !h.signing_key) {
          trust = 'untrusted';
          reason = 'the host is not approved';
        } else if (!signedBy(env, h.signing_key)) {
          trust = 'untrusted';
          reason = "not signed by the host's pinned key";
        } else if (doc.seq !== undefined && h.last_seq !== null && doc.seq <= h.last_seq) {
          trust = 'replay';
          reason = `sequence ${doc.seq} is not newer than ${h.last_seq}`;
        }
        const now = r.now.toISOString();
        reports.push([id, doc.site, doc.host, trust, reason ?? null, doc.seq ?? null, doc.publicKey, doc.result, doc.at, r.channel, now, JSON.stringify(env)]);
        const message =
          trust === 'trusted' ? `${doc.result}${doc.version !== null ? ` v${doc.version}` : ''} (${r.channel})${doc.error ? `: ${doc.error}` : ''}` : `report stored as ${trust} (${r.channel}): ${reason}`;
        events.push([doc.site, doc.host, now, trust === 'trusted' ? 'report' : trust === 'replay' ? 'replay' : 'untrusted-report', message.slice(0, 2000)]);
        dups.set(id, { doc_sha256: id, trust, reason: reason ?? null });
        out.push({ id, trust, ...(reason ? { reason } : {}), duplicate: false });
        if (trust !== 'trusted' || !h) return;
        // Without a sequence number (older agents) a report older than the newest one (a
        // stick carried back late) goes into the history but does not become "last".
        if (doc.seq === undefined && h.last_report_at && Date.parse(doc.at) < Date.parse(h.last_report_at)) return;
        // Last seen: the receive time on the network; on a stick, when the school wrote it.
        const seen = r.channel === 'network' ? now : new Date(Math.min(Date.parse(doc.at), r.now.getTime())).toISOString();
        if (doc.seq !== undefined) h.last_seq = doc.seq;
        h.last_report_at = doc.at;
        const prev = updates.get(`${doc.site}/${doc.host}`);
        updates.set(`${doc.site}/${doc.host}`, [
          doc.site, doc.host, prev && (prev[2] as string) > seen ? prev[2] : seen, r.channel, r.channel === 'stick' ? now : null, doc.result, doc.error ?? null, doc.hint ?? null,
          doc.at, h.last_seq, doc.release ?? null, doc.version, doc.agentVersion ?? null, now,
        ]);
      });
      if (reports.length) {
        await q.query(
          `INSERT INTO reports (doc_sha256, site, host, trust, reason, seq, signing_key, result, at, channel, received, envelope)
           SELECT a, b, c, d, e, f, g, h, i, j, k::timestamptz, l::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
             AS u(a, b, c, d, e, f, g, h, i, j, k, l)
           ON CONFLICT (doc_sha256) DO NOTHING`,
          columns(reports, 12),
        );
        await q.query(
          `INSERT INTO events (site, host, at, kind, message)
           SELECT a, b, c::timestamptz, d, e FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(a, b, c, d, e)`,
          columns(events, 5),
        );
      }
      if (updates.size) {
        await q.query(
          `UPDATE hosts SET last_seen = greatest(hosts.last_seen, u.seen::timestamptz), last_channel = u.channel, last_import_at = u.import_at::timestamptz, last_result = u.result,
             last_error = u.error, last_hint = u.hint, last_report_at = u.at, last_seq = u.seq, release = coalesce(u.release, hosts.release), version = u.version,
             agent_version = coalesce(u.agent, hosts.agent_version), updated = u.now::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[])
             AS u(site, host, seen, channel, import_at, result, error, hint, at, seq, release, version, agent, now)
           WHERE hosts.site = u.site AND hosts.host = u.host`,
          columns([...updates.values()], 14),
        );
      }
      return out;
    });
  }

  /** One token per machine record; earlier unspent tokens of those hosts stop working. */
  async issueTokens(site: string, machines: { host: string; macs: string[]; nics?: Record<string, string> }[], expires: Date, now: Date): Promise<IssuedToken[]> {
    return this.db.tx(async (q) => {
      const out: IssuedToken[] = [];
      for (const m of machines) {
        const token = randomBytes(32).toString('base64url');
        await q.query('UPDATE tokens SET revoked = $3 WHERE site = $1 AND host = $2 AND spent IS NULL AND revoked IS NULL', [site, m.host, now.toISOString()]);
        await q.query('INSERT INTO tokens (sha256, site, host, macs, nics, issued, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          sha256Hex(token),
          site,
          m.host,
          JSON.stringify([...new Set(m.macs)].sort()),
          m.nics ? JSON.stringify(m.nics) : null,
          now.toISOString(),
          expires.toISOString(),
        ]);
        await event(q, site, m.host, now, 'token', `enrolment token issued, expires ${expires.toISOString()}`);
        out.push({ host: m.host, token, expires: expires.toISOString() });
      }
      return out;
    });
  }

  async host(site: string, host: string): Promise<HostRow | undefined> {
    return (await this.db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts WHERE site = $1 AND host = $2`, [site, host]))[0];
  }

  async hosts(f: HostFilter = {}): Promise<{ total: number; rows: HostRow[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.site) where.push(`site = $${params.push(f.site)}`);
    if (f.state === 'conflict') where.push('conflict');
    else if (f.state) where.push(`state = $${params.push(f.state)}`);
    if (f.text) {
      const like = `%${f.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      const n = params.push(like);
      where.push(`(host ILIKE $${n} OR site ILIKE $${n} OR coalesce(last_error, '') ILIKE $${n} OR coalesce(release, '') ILIKE $${n} OR macs::text ILIKE $${n})`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM hosts ${w}`, params))[0].n;
    const rows = await this.db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts ${w} ORDER BY site, host LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, f.limit ?? 50, f.offset ?? 0]);
    return { total, rows };
  }

  /** Enrolments waiting for a person: pending ones and conflicts. */
  async waiting(f: { site?: string; limit?: number; offset?: number } = {}): Promise<{ total: number; rows: EnrolmentRow[] }> {
    const params: unknown[] = [];
    const w = `WHERE status IN ('pending', 'conflict')${f.site ? ` AND site = $${params.push(f.site)}` : ''}`;
    const total = (await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM enrolments ${w}`, params))[0].n;
    const rows = await this.db.query<EnrolmentRow>(`SELECT ${ENROLMENT_COLUMNS} FROM enrolments ${w} ORDER BY id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, f.limit ?? 50, f.offset ?? 0]);
    return { total, rows };
  }

  async enrolments(site: string, host: string, limit = 50): Promise<EnrolmentRow[]> {
    return this.db.query<EnrolmentRow>(`SELECT ${ENROLMENT_COLUMNS} FROM enrolments WHERE site = $1 AND host = $2 ORDER BY id DESC LIMIT $3`, [site, host, limit]);
  }

  async history(site: string, host: string, limit = 100, offset = 0): Promise<EventRow[]> {
    return this.db.query<EventRow>('SELECT id, at, kind, message FROM events WHERE site = $1 AND host = $2 ORDER BY id DESC LIMIT $3 OFFSET $4', [site, host, limit, offset]);
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM hosts GROUP BY state UNION ALL SELECT 'conflict', count(*)::int FROM hosts WHERE conflict`);
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async reportCount(site: string, host: string, trust?: Trust): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports WHERE site = $1 AND host = $2 AND ($3::text IS NULL OR trust = $3)', [site, host, trust ?? null]))[0].n;
  }

  /** Approved hosts of a site with their pinned keys and approvals. */
  async approved(site: string): Promise<HostRow[]> {
    return this.db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts WHERE site = $1 AND state = 'approved' ORDER BY host`, [site]);
  }
}

/** Rows -> one array per column, for unnest(): a whole batch in one statement. */
function columns(rows: unknown[][], n: number): unknown[][] {
  return Array.from({ length: n }, (_, c) => rows.map((r) => r[c]));
}

/** A request that does not fit the current state (nothing waiting to approve...): exit 2. */
export class FleetStateError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'FleetStateError';
  }
}
