import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from '../../src/database/database.js';
import type { Database } from '../../src/database/schema.js';

/** For specs: a fresh, migrated in-memory SQLite database; destroy it in `afterEach`. */
export async function createTestDatabase(): Promise<Kysely<Database>> {
  const db = createDatabase('sqlite::memory:');
  await migrateToLatest(db);
  return db;
}

/** The stored lease of a run (the column the API does not serve). */
export async function leaseOf(db: Kysely<Database>, runId: string): Promise<string | null> {
  const row = await db.selectFrom('runs').select('lease_expires_at').where('id', '=', runId).executeTakeFirstOrThrow();
  return row.lease_expires_at;
}
