// `xsbuild fleet ...`: the central office's service and its command-line tools.
// Exit status: 0 ok (serve: stopped by Ctrl-C/SIGTERM), 1 failed (busy port, database
// trouble), 2 bad input (arguments, files, a host with nothing to approve...).
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EnrolTokensFile, RecipientsFile } from '../../agent/fleet/wire.js';
import { BuildError, InputError, InputErrors, exitCodeFor, EXIT_BAD_INPUT, errorReport } from '../errors.js';
import { errorText } from '../../lib/errors.js';
import { loadSite } from '../site.js';
import { loadSigningKey, type SigningKey } from '../updates/keys.js';
import { parseListen } from '../serve/command.js';
import { DEFAULT_DB, openDb, type Db } from './db.js';
import { HOST_RE, SITE_RE } from './documents.js';
import { migrate } from './migrations.js';
import { startFleetService } from './service.js';
import { exportApprovals, importStick } from './stick.js';
import { writeFileAtomic } from '../../agent/fsutil.js';
import { FleetStateError, FleetStore, type HostRow } from './store.js';

export const FLEET_HELP = `xsbuild fleet — the central office: enrolments, reports, a page of every school server

Usage:
  xsbuild fleet serve --key OFFICE.key [--db URL|DIR] [--listen ADDR:PORT] [--json]
  xsbuild fleet import DIR [--db URL|DIR] [--key OFFICE.key] [--json]
  xsbuild fleet approve <site>/<host> --key OFFICE.key [--enrolment ID] [--db URL|DIR]
  xsbuild fleet reject <site>/<host> [--enrolment ID] [--db URL|DIR]
  xsbuild fleet list [--site S] [--state pending|approved|rejected|conflict] [--json] [--db URL|DIR]
  xsbuild fleet tokens <site|site.yaml> --out FILE [--expires 14d] [--db URL|DIR]
  xsbuild fleet recipients <site> --out FILE [--db URL|DIR]
  xsbuild fleet export <site> --to STICKDIR [--db URL|DIR]

  --db URL|DIR      postgres://USER@HOST:PORT/DB (a PostgreSQL server), or a directory for the
                    embedded database (PGlite; default ${DEFAULT_DB}, one process at a time)
  --listen ADDR:PORT  where serve listens (default 127.0.0.1:8088: loopback only; the page's
                    approve button is protected by that and a same-origin check, see docs/fleet.md)
  --key OFFICE.key  the office signing key (xsbuild keys generate); signs approvals
  --expires N(d|h)  how long enrolment tokens stay valid (default 14d)

serve: POST /v1/enrol and /v1/report from school servers; the page at /.
import: enrol/*.json and reports/*.json from a stick's bundle directory (again: adds nothing).
tokens: one single-use token per machine record, bound to its MACs, into FILE (mode 0600, secret).
recipients: approved hosts' keys, for xsbuild publish --private. export: approvals/<host>.json.
Exit status: 0 ok, 1 failed (busy port, database), 2 bad input.
`;

const OPTIONS = {
  db: { type: 'string' },
  listen: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
  site: { type: 'string' },
  state: { type: 'string' },
  out: { type: 'string' },
  to: { type: 'string' },
  expires: { type: 'string' },
  enrolment: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(msg: string, hint = 'xsbuild fleet --help lists the commands and their options'): never {
  throw new InputError({ file: 'command line' }, msg, hint);
}

function siteHostArg(arg: string | undefined): { site: string; host: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(arg ?? '');
  if (!m || !SITE_RE.test(m[1]) || !HOST_RE.test(m[2])) usage(`"${arg ?? ''}" is not <site>/<host>`, 'e.g. xsbuild fleet approve rioja/escuela-101');
  return { site: m[1], host: m[2] };
}

function siteArg(arg: string | undefined, cmd: string): string {
  if (!arg || !SITE_RE.test(arg)) usage(`fleet ${cmd} takes a site name`, `write it as xsbuild fleet ${cmd} <site> ...`);
  return arg;
}

async function requireKey(file: string | undefined, cmd: string): Promise<SigningKey> {
  if (!file) usage(`fleet ${cmd} needs --key OFFICE.key (it signs approvals)`, 'create one with xsbuild keys generate --out DIR');
  return loadSigningKey(path.resolve(file), '--key');
}

export function parseExpires(s: string, now: Date): Date {
  const m = /^(\d{1,4})([dh])$/.exec(s);
  if (!m || Number(m[1]) < 1) throw new InputError({ file: '--expires' }, `"${s}" is not a duration`, 'e.g. --expires 14d or --expires 36h');
  return new Date(now.getTime() + Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000));
}

async function openStore(spec: string | undefined, key?: SigningKey): Promise<{ db: Db; store: FleetStore }> {
  const db = await openDb(spec ?? DEFAULT_DB);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    if (e instanceof BuildError) throw e;
    throw new BuildError(`cannot prepare the fleet database ${db.where}: ${(e as Error).message}`, 'check that the database is reachable and writable');
  }
  return { db, store: new FleetStore(db, key) };
}

function hostJson(h: HostRow): Record<string, unknown> {
  const { approval: _a, ...rest } = h;
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}

export async function runFleet(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(FLEET_HELP);
    return sub ? 0 : EXIT_BAD_INPUT;
  }
  let db: Db | undefined;
  try {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
    if (values.help) {
      process.stdout.write(FLEET_HELP);
      return 0;
    }
    const json = values.json ?? false;
    const out = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');
    switch (sub) {
      case 'serve': {
        if (positionals.length) usage('fleet serve takes no positional arguments');
        const listen = parseListen(values.listen ?? '127.0.0.1:8088');
        const key = await requireKey(values.key, 'serve');
        let store: FleetStore;
        ({ db, store } = await openStore(values.db, key));
        // Listening for Ctrl-C before saying we are up: a signal right after the banner stops cleanly.
        const stopped = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        const log = (line: string) => (json ? out({ t: new Date().toISOString(), event: 'log', message: line }) : void process.stderr.write(`${line}\n`));
        const svc = await startFleetService({ store, ...listen, log });
        if (json) out({ t: new Date().toISOString(), event: 'listening', url: svc.url, db: db.where, engine: db.engine, officeKey: key.keyid });
        else process.stderr.write(`fleet service at ${svc.url} (page: ${svc.url}, database: ${db.engine} ${db.where}, office key ${key.keyid.slice(0, 16)})\n`);
        const sig = await stopped;
        log(`${sig}: stopping`);
        await svc.close();
        return 0;
      }
      case 'import': {
        if (positionals.length !== 1) usage('fleet import takes one directory (a stick bundle)', 'xsbuild fleet import /media/usb/xs-update');
        const key = values.key ? await requireKey(values.key, 'import') : undefined;
        let store: FleetStore;
        ({ db, store } = await openStore(values.db, key));
        const results = await importStick(store, path.resolve(positionals[0]));
        const bad = results.filter((r) => r.outcome === 'refused');
        if (json) out({ imported: results });
        else {
          for (const r of results) process.stdout.write(`${r.file}: ${r.kind} ${r.site ? `${r.site}/${r.host} ` : ''}${r.outcome}${r.problem ? ` — ${r.problem}` : ''}\n`);
          process.stdout.write(`${results.length} files, ${results.filter((r) => r.outcome === 'already imported').length} already imported, ${bad.length} refused\n`);
        }
        if (bad.length) throw new InputErrors(bad.map((b) => new InputError({ file: b.file }, b.problem ?? 'refused', 'the file is not a signed enrolment or report xs-agent wrote')));
        return 0;
      }
      case 'approve':
      case 'reject': {
        const { site, host } = siteHostArg(positionals[0]);
        if (positionals.length !== 1) usage(`fleet ${sub} takes one <site>/<host>`);
        const id = values.enrolment === undefined ? undefined : Number(values.enrolment);
        if (id !== undefined && !Number.isSafeInteger(id)) throw new InputError({ file: '--enrolment' }, `"${values.enrolment}" is not an enrolment id`, 'xsbuild fleet list --state pending --json shows them');
        const key = sub === 'approve' ? await requireKey(values.key, 'approve') : undefined;
        let store: FleetStore;
        ({ db, store } = await openStore(values.db, key));
        if (sub === 'approve') {
          const a = await store.approve(site, host, new Date(), id);
          if (json) out({ status: 'approved', site, host, enrolment: a.enrolment });
          else process.stdout.write(`${site}/${host}: approved (enrolment ${a.enrolment}); the server gets its approval at its next try, or from a stick (xsbuild fleet export)\n`);
        } else {
          const n = await store.reject(site, host, new Date(), id);
          if (json) out({ status: 'rejected', site, host, enrolments: n });
          else process.stdout.write(`${site}/${host}: rejected ${n} enrolment${n > 1 ? 's' : ''}\n`);
        }
        return 0;
      }
      case 'list': {
        if (positionals.length) usage('fleet list takes no positional arguments', 'xsbuild fleet list --site rioja --state pending');
        if (values.state && !['approved', 'pending', 'rejected', 'conflict'].includes(values.state)) throw new InputError({ file: '--state' }, `"${values.state}" is not a state`, 'one of pending, approved, rejected, conflict');
        if (values.site && !SITE_RE.test(values.site)) throw new InputError({ file: '--site' }, `"${values.site}" is not a site name`, 'e.g. --site rioja');
        let store: FleetStore;
        ({ db, store } = await openStore(values.db));
        const all: HostRow[] = [];
        for (let offset = 0; ; offset += 500) {
          const page = await store.hosts({ site: values.site, state: values.state, limit: 500, offset });
          all.push(...page.rows);
          if (all.length >= page.total || !page.rows.length) break;
        }
        const waiting = (await store.waiting({ site: values.site, limit: 1000 })).rows;
        if (json) {
          out({ hosts: all.map(hostJson), waiting: waiting.map((w) => ({ ...w, received: w.received.toISOString() })) });
        } else {
          for (const h of all) process.stdout.write(`${h.site}/${h.host}\t${h.state}${h.conflict ? ' (conflict)' : ''}\t${h.release ?? '-'}${h.version !== null ? ` v${h.version}` : ''}\t${h.last_result ?? '-'}\t${h.last_seen ? h.last_seen.toISOString() : '-'} ${h.last_channel ?? ''}\n`);
          if (waiting.length) process.stdout.write(`\nwaiting for a person:\n`);
          for (const w of waiting) process.stdout.write(`  ${w.site}/${w.host}\t${w.status}\tenrolment ${w.id}\tkey ${w.signing_key.slice(0, 12)}…\t${w.received.toISOString()} ${w.channel}\t${w.message ?? ''}\n`);
          process.stdout.write(`${all.length} servers, ${waiting.length} enrolments waiting\n`);
        }
        return 0;
      }
      case 'tokens': {
        if (positionals.length !== 1) usage('fleet tokens takes one site', 'xsbuild fleet tokens rioja --out rioja-tokens.json');
        if (!values.out) usage('fleet tokens needs --out FILE (the tokens are secret; the file is written 0600)');
        const now = new Date();
        const expires = parseExpires(values.expires ?? '14d', now);
        const site = await loadSite(positionals[0]);
        const machines = (site.data.machines ?? []).map((m) => ({
          host: m.hostname,
          macs: [m.mac, ...Object.values(m.nics ?? {}).filter((n) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(n))],
          nics: m.nics,
        }));
        if (!machines.length) throw new InputError({ file: site.file }, 'the site has no machine records', 'add machines: [{mac, hostname}] to the site; tokens are per machine');
        let store: FleetStore;
        ({ db, store } = await openStore(values.db));
        const issued = await store.issueTokens(site.data.site, machines, expires, now);
        const file: EnrolTokensFile = { _type: 'xs-enrol-tokens', site: site.data.site, hosts: Object.fromEntries(issued.map((t) => [t.host, { token: t.token, expires: t.expires }])) };
        const dest = path.resolve(values.out);
        await writeFileAtomic(dest, JSON.stringify(file, null, 2) + '\n', 0o600);
        if (json) out({ file: dest, site: site.data.site, hosts: issued.map((t) => t.host), expires: expires.toISOString() });
        else process.stdout.write(`${dest}: ${issued.length} enrolment tokens for ${site.data.site}, valid until ${expires.toISOString()} (secret: mode 0600; use with xsbuild build ${site.data.site} --enrol-tokens ${values.out})\n`);
        return 0;
      }
      case 'recipients': {
        const site = siteArg(positionals[0], 'recipients');
        if (!values.out) usage('fleet recipients needs --out FILE');
        let store: FleetStore;
        ({ db, store } = await openStore(values.db));
        const hosts = await store.approved(site);
        const file: RecipientsFile = { _type: 'xs-recipients', site, hosts: Object.fromEntries(hosts.filter((h) => h.seal_key && h.signing_key).map((h) => [h.host, { sealKey: h.seal_key as string, signingKey: h.signing_key as string }])) };
        const dest = path.resolve(values.out);
        await writeFileAtomic(dest, JSON.stringify(file, null, 2) + '\n', 0o644);
        if (json) out({ file: dest, site, hosts: Object.keys(file.hosts) });
        else process.stdout.write(`${dest}: ${Object.keys(file.hosts).length} approved hosts of ${site}\n`);
        return 0;
      }
      case 'export': {
        const site = siteArg(positionals[0], 'export');
        if (!values.to) usage('fleet export needs --to STICKDIR (the bundle directory on the stick)');
        let store: FleetStore;
        ({ db, store } = await openStore(values.db));
        const written = await exportApprovals(store, site, path.resolve(values.to));
        if (json) out({ site, written });
        else process.stdout.write(`${written.length} approvals of ${site} written to ${path.join(path.resolve(values.to), 'approvals')}/\n`);
        return 0;
      }
      default:
        return usage(`unknown fleet command "${sub}"`);
    }
  } catch (e) {
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${errorText(`command line: ${e.message}`, 'xsbuild fleet --help lists the commands and their options')}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(errorReport(e));
    return e instanceof FleetStateError ? EXIT_BAD_INPUT : exitCodeFor(e);
  } finally {
    await db?.close().catch(() => undefined);
  }
}
