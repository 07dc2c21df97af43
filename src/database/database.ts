import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migration,
  MigrationProvider,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
} from 'kysely';
import pg from 'pg';
import * as initial from './migrations/0001-initial.js';
import * as runAttempts from './migrations/0002-run-attempts-leases-job-state.js';
import * as cluster from './migrations/0003-cluster.js';
import * as dropJobsFirstSeenAt from './migrations/0004-drop-jobs-first-seen-at.js';
import type { Database } from './schema.js';

/** The Kysely instance every repository queries through. */
export const DATABASE = Symbol('DATABASE');

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-run-attempts-leases-job-state': runAttempts,
  '0003-cluster': cluster,
  '0004-drop-jobs-first-seen-at': dropJobsFirstSeenAt,
};

export const migrationProvider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export interface DatabaseOptions {
  /** Connections per process (PostgreSQL only). */
  poolSize?: number;
  /** Told about connection errors that no query is waiting for (PostgreSQL only), so they never crash the process. */
  onIdleError?: (error: Error) => void;
}

/** How long a query waits for a connection before failing, so a database outage surfaces as errors, not hangs. */
const CONNECT_TIMEOUT_MS = 5000;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function sqliteFileFromUrl(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '');
}

/** SQLite for a `sqlite:` URL, PostgreSQL for a `postgres://` one: the same queries and migrations serve both. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Kysely<Database> {
  if (isPostgresUrl(url)) {
    const pool = createPool(url, options);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const file = sqliteFileFromUrl(url);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers (REST) proceed while a job writes; the busy timeout covers a second process on the same file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/**
 * A pg pool whose connection errors are reported instead of thrown: pg emits
 * `error` on a client the server dropped (a restart, an outage), and an
 * unhandled `error` event would end the process.
 */
export function createPool(url: string, { poolSize = 10, onIdleError = () => undefined }: DatabaseOptions = {}) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', onIdleError);
  pool.on('connect', (client) => client.on('error', onIdleError));
  return pool;
}

export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Applies pending migrations; throws with the failing migration's name so
 * start-up stops loudly. On PostgreSQL, Kysely's migrator holds an advisory
 * lock for the whole run, so replicas starting together migrate once, in turn.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).map((result) => result.migrationName);
}
