// One database interface over two engines that run the same SQL: PGlite (PostgreSQL
// compiled to WASM, in this process, data in a directory) for a laptop or a small
// office, and a PostgreSQL server through `pg` for large fleets and several service
// instances. Only the parts both engines share are used: $1 parameters, plain
// transactions, row locks, ON CONFLICT.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { BuildError, InputError } from '../errors.js';
import { takeLock, type Lock } from '../lock.js';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /** 'pglite' or 'postgres'. */
  readonly engine: 'pglite' | 'postgres';
  /** Where the data is, for messages (a directory, or the URL without its password). */
  readonly where: string;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const DEFAULT_DB = './fleet-db';

export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//.test(spec);
}

/** A URL without its password, safe to print. */
export function redactUrl(spec: string): string {
  try {
    const u = new URL(spec);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** `--db URL|DIR`: postgres://... uses a PostgreSQL server, anything else is a PGlite directory. */
export async function openDb(spec: string = DEFAULT_DB): Promise<Db> {
  if (isPostgresUrl(spec)) return openPostgres(spec);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new InputError({ file: '--db' }, `"${redactUrl(spec)}" is neither a postgres:// URL nor a directory`, 'give postgres://USER@HOST:PORT/DB or a directory for the embedded database (default ./fleet-db)');
  }
  return openPglite(path.resolve(spec));
}

async function openPglite(dir: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BuildError(`cannot create the database directory ${dir}: ${(e as Error).message}`, 'give a writable directory with --db DIR');
  }
  // PGlite is PostgreSQL in this process: two processes on one directory would corrupt
  // it, so the directory is locked (a lock left by a dead process is taken over).
  let lock: Lock;
  try {
    lock = await takeLock(`${dir}.lock`, dir);
  } catch (e) {
    throw new BuildError(`the fleet database ${dir} is in use by another process (${(e as Error).message.replace(/^.*\(pid/, 'pid').replace(/\)$/, '')})`, 'the embedded database allows one process at a time: stop `xsbuild fleet serve` first, use the page, or use a PostgreSQL server (--db postgres://...)');
  }
  let pg: InstanceType<typeof PGlite>;
  try {
    // relaxedDurability false: a query's promise resolves only after its writes reached
    // the filesystem. On Node the data directory is mounted directly (NODEFS), so a
    // committed transaction's WAL is in the kernel before COMMIT returns, and survives
    // kill -9 of this process (test/fleet/durability.test.ts).
    pg = await PGlite.create({ dataDir: dir, relaxedDurability: false });
  } catch (e) {
    await lock.release();
    throw new BuildError(`cannot open the fleet database in ${dir}: ${(e as Error).message}`, 'is it a fleet database directory? give an empty or new directory, or the one `xsbuild fleet` made');
  }
  return {
    engine: 'pglite',
    where: dir,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pg.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await pg.exec(sql);
    },
    tx: (fn) =>
      pg.transaction(async (t) =>
        fn({
          async query<T>(sql: string, params: unknown[] = []) {
            return (await t.query<T>(sql, params)).rows;
          },
          async exec(sql: string) {
            await t.exec(sql);
          },
        }),
      ),
    async close() {
      await pg.close();
      await lock.release();
    },
  };
}

async function openPostgres(url: string): Promise<Db> {
  const pg = (await import('pg')).default;
  // bigint counts come back as strings by default; every bigint here fits a JS number.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new BuildError(`cannot connect to ${redactUrl(url)}: ${(e as Error).message}`, 'is the PostgreSQL server running, and does the URL name its user, host, port and database?');
  }
  return {
    engine: 'postgres',
    where: redactUrl(url),
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async tx(fn) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn({
          async query<T>(sql: string, params: unknown[] = []) {
            return (await c.query(sql, params)).rows as T[];
          },
          async exec(sql: string) {
            await c.query(sql);
          },
        });
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
