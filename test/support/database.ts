import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from '../../src/database/database.js';
import type { Database } from '../../src/database/schema.js';
import { createPostgresDatabaseUrl, dropPostgresDatabase } from './postgres.js';

export type TestDialect = 'sqlite' | 'postgres';

/** The storage dialect of this Jest project (`*:sqlite` or `*:postgres`), set by its setup file in test/support/dialect/. */
export function testDialect(): TestDialect {
  const dialect = process.env.JOBPULSE_TEST_DIALECT ?? 'sqlite';
  if (dialect !== 'sqlite' && dialect !== 'postgres') {
    throw new Error(`JOBPULSE_TEST_DIALECT must be sqlite or postgres, not ${JSON.stringify(dialect)}`);
  }
  return dialect;
}

/** For specs: a fresh, migrated database of the project's dialect (SQLite: in memory); destroy it in `afterEach`. */
export async function createTestDatabase(): Promise<Kysely<Database>> {
  const db = createDatabase(testDialect() === 'postgres' ? await createPostgresDatabaseUrl() : 'sqlite::memory:');
  await migrateToLatest(db);
  return db;
}

/** An empty database that outlives the apps and processes using it, e.g. to restart on the same data. */
export interface TemporaryDatabase {
  /** A DATABASE_URL: `sqlite:<temporary file>`, or a fresh database on the test PostgreSQL server. */
  url: string;
  /** Deletes the file, or drops the database (cutting off connections still open). */
  remove(): Promise<void>;
}

/** A fresh, empty (unmigrated) database of the project's dialect; `remove()` it when done. */
export async function temporaryDatabase(): Promise<TemporaryDatabase> {
  if (testDialect() === 'postgres') {
    const url = await createPostgresDatabaseUrl();
    return { url, remove: () => dropPostgresDatabase(url) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'jobpulse-'));
  return {
    url: `sqlite:${join(dir, 'jobpulse.db')}`,
    remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** The stored lease of a run (the column the API does not serve). */
export async function leaseOf(db: Kysely<Database>, runId: string): Promise<string | null> {
  const row = await db.selectFrom('runs').select('lease_expires_at').where('id', '=', runId).executeTakeFirstOrThrow();
  return row.lease_expires_at;
}
