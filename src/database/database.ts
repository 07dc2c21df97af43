import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migration, MigrationProvider, Migrator, SqliteDialect } from 'kysely';
import * as initial from './migrations/0001-initial.js';
import * as runAttempts from './migrations/0002-run-attempts-leases-job-state.js';
import type { Database } from './schema.js';

/** The Kysely instance every repository queries through. */
export const DATABASE = Symbol('DATABASE');

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-run-attempts-leases-job-state': runAttempts,
};

const migrationProvider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export function sqliteFileFromUrl(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '');
}

export function createDatabase(url: string): Kysely<Database> {
  const file = sqliteFileFromUrl(url);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers (REST) proceed while a job writes; the busy timeout covers a second process on the same file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/** Applies pending migrations; throws with the failing migration's name so start-up stops loudly. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).map((result) => result.migrationName);
}
