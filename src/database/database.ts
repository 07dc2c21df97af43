import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migration,
  MigrationProvider,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';
import type { Driver } from 'kysely';
import type { CustomTypesConfig, Pool } from 'pg';
import { messageOf } from '../common/errors.js';
import { redactCredentials } from '../config/env.js';
import { CachedStatements } from './cached-statements.js';
import * as initial from './migrations/0001-initial.js';
import * as runAttempts from './migrations/0002-run-attempts-leases-job-state.js';
import * as cluster from './migrations/0003-cluster.js';
import * as dropJobsFirstSeenAt from './migrations/0004-drop-jobs-first-seen-at.js';
import * as reportIndexes from './migrations/0005-report-indexes.js';
import * as postgresNativeTypes from './migrations/0006-postgres-native-types.js';
import * as retentionIndexes from './migrations/0007-retention-indexes.js';
import type { Database } from './schema.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/** The Kysely instance every repository queries through. */
export const DATABASE = Symbol('DATABASE');

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-run-attempts-leases-job-state': runAttempts,
  '0003-cluster': cluster,
  '0004-drop-jobs-first-seen-at': dropJobsFirstSeenAt,
  '0005-report-indexes': reportIndexes,
  '0006-postgres-native-types': postgresNativeTypes,
  '0007-retention-indexes': retentionIndexes,
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

/** The database that DATABASE_URL names cannot be used: the message names the variable, with its password hidden. */
export class DatabaseUrlError extends Error {
  constructor(url: string, problem: string) {
    super(redactCredentials(`DATABASE_URL=${url}: ${problem}`));
  }
}

/** SQLite for a `sqlite:` URL, PostgreSQL for a `postgres://` one: the same queries and migrations serve both. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Kysely<Database> {
  if (isPostgresUrl(url)) {
    // The pool is made, and pg loaded, when the first query needs a connection: a SQLite service never loads pg.
    const pool = () => createPool(url, { ...options, asStoredOnSqlite: true });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const sqlite = openSqlite(url);
  // An in-memory or temporary database has no file that a second connection could open to checkpoint.
  if (sqlite.memory || sqlite.name === '') {
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: new CachedStatements(sqlite) }) });
  }
  return new Kysely<Database>({ dialect: new CheckpointedSqliteDialect(sqlite) });
}

/** SQLite whose write-ahead log a WalCheckpointer checkpoints from the first query until `db.destroy()`. */
class CheckpointedSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    return new CheckpointedSqliteDriver(this.sqlite);
  }
}

class CheckpointedSqliteDriver extends SqliteDriver {
  private checkpointer?: WalCheckpointer;

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: new CachedStatements(sqlite) });
  }

  /** Kysely destroys a driver only once it has initialized it: the worker starts here, never to be left running. */
  override async init(): Promise<void> {
    this.checkpointer = new WalCheckpointer(this.sqlite);
    await super.init();
  }

  /** The worker closes its connection first, so that closing this last one checkpoints the log and removes it. */
  override async destroy(): Promise<void> {
    await this.checkpointer?.stop();
    await super.destroy();
  }
}

/** Opens the file of a `sqlite:` URL, creating it and its folders; a failure names the variable and the file. */
function openSqlite(url: string): SqliteDatabase.Database {
  const file = sqliteFileFromUrl(url);
  let sqlite: SqliteDatabase.Database | undefined;
  try {
    if (file !== ':memory:') createFolder(dirname(resolve(file)));
    sqlite = new SqliteDatabase(file);
    // WAL lets readers (REST) proceed while a job writes; the busy timeout covers a second process on the same file.
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs at each checkpoint, not at each commit: commits no longer wait on the
    // disk on the event loop, and the checkpoint worker syncs within milliseconds (see docs/operations.md).
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    return sqlite;
  } catch (error) {
    sqlite?.close();
    const path = file === ':memory:' ? file : resolve(file);
    throw new DatabaseUrlError(url, `cannot open the SQLite file ${path}: ${whyUnopenable(path, error)}`);
  }
}

/**
 * Makes each missing folder in turn, so the first that cannot be made fails with its own error. Node's
 * `mkdirSync(folder, { recursive: true })` never returns when a parent exists but cannot hold the folder
 * (under /proc, or a dangling symlink): it retries the parent and the child forever.
 */
function createFolder(folder: string): void {
  if (existsSync(folder)) return;
  createFolder(dirname(folder));
  try {
    mkdirSync(folder);
  } catch (error) {
    // Another process starting on the same file may have made it meanwhile.
    const madeMeanwhile = (error as NodeJS.ErrnoException).code === 'EEXIST' && isFolder(folder);
    if (!madeMeanwhile) throw error;
  }
}

/** SQLite says only `unable to open database file`; the file system says why. */
function whyUnopenable(path: string, error: unknown): string {
  const reason = messageOf(error);
  if ((error as { code?: string }).code !== 'SQLITE_CANTOPEN') return reason;
  const folder = dirname(path);
  if (isFolder(path)) return `${reason}: it is a folder`;
  if (!isFolder(folder)) return `${reason}: ${folder} is not a folder`;
  try {
    accessSync(existsSync(path) ? path : folder, constants.R_OK | constants.W_OK);
    return reason;
  } catch (accessError) {
    return `${reason}: ${messageOf(accessError)}`;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

type Pg = typeof import('pg').default;

interface PoolOptions extends DatabaseOptions {
  /** Reads values as the SQLite dialect gives them (see typesAsStoredOnSqlite): the repositories' pool. */
  asStoredOnSqlite?: boolean;
}

type ParseText = (text: string) => unknown;

/**
 * PostgreSQL's native types, read as SQLite's portable ones are, so that one set of repositories serves
 * both: an instant as ISO-8601 UTC text with milliseconds, a JSON document as its text, a bigint as a
 * number (event ids and durations stay far below 2^53).
 */
function typesAsStoredOnSqlite(pg: Pg): CustomTypesConfig {
  const { builtins } = pg.types;
  const parseTimestamptz = pg.types.getTypeParser(builtins.TIMESTAMPTZ, 'text') as (text: string) => Date;
  const readAsOnSqlite = new Map<number, ParseText>([
    [builtins.TIMESTAMPTZ, (text) => parseTimestamptz(text).toISOString()],
    [builtins.JSONB, (text) => text],
    [builtins.JSON, (text) => text],
    [builtins.INT8, Number],
  ]);
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      readAsOnSqlite.get(oid) ??
      (pg.types.getTypeParser(oid, format) as ParseText)) as CustomTypesConfig['getTypeParser'],
  };
}

/**
 * A pg pool whose connection errors are reported instead of thrown: pg emits
 * `error` on a client the server dropped (a restart, an outage), and an
 * unhandled `error` event would end the process. pg is imported here, on
 * first use, so that it is never loaded on SQLite.
 */
export async function createPool(
  url: string,
  { poolSize = 10, onIdleError = () => undefined, asStoredOnSqlite = false }: PoolOptions = {},
): Promise<Pool> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: asStoredOnSqlite ? typesAsStoredOnSqlite(pg) : undefined,
  });
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
    const migration = failed ? `database migration ${failed.migrationName}` : 'database migrations';
    throw new Error(`${migration} failed: ${messageOf(error)}`);
  }
  return (results ?? []).map((result) => result.migrationName);
}
