import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from '../../src/database/database.js';
import type { Database } from '../../src/database/schema.js';

/** For specs: a fresh, migrated in-memory SQLite database; destroy it in `afterEach`. */
export async function createTestDatabase(): Promise<Kysely<Database>> {
  const db = createDatabase('sqlite::memory:');
  await migrateToLatest(db);
  return db;
}
