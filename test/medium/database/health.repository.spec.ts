import { Migrator, type Kysely } from 'kysely';
import { createDatabase, migrateToLatest, migrationProvider } from '../../../src/database/database.js';
import { HealthRepository } from '../../../src/database/health.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';

describe('HealthRepository', () => {
  let database: TemporaryDatabase;
  let db: Kysely<Database>;
  let health: HealthRepository;

  beforeEach(async () => {
    database = await temporaryDatabase();
    db = createDatabase(database.url);
    health = new HealthRepository(db);
  });
  afterEach(async () => {
    await db.destroy();
    await database.remove();
  });

  it('names no pending migration once every migration is applied', async () => {
    await migrateToLatest(db);
    await expect(health.ping()).resolves.toBeUndefined();
    await expect(health.pendingMigrations()).resolves.toEqual([]);
  });

  it('names the migrations not applied yet, in order', async () => {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(
      '0002-run-attempts-leases-job-state',
    );
    if (error) throw error as Error;
    const later = Object.keys(await migrationProvider.getMigrations())
      .sort()
      .filter((name) => name > '0002-run-attempts-leases-job-state');
    expect(later.slice(0, 2)).toEqual(['0003-cluster', '0004-drop-jobs-first-seen-at']);
    await expect(health.pendingMigrations()).resolves.toEqual(later);
  });

  it('rejects with the error of a database that does not answer', async () => {
    await migrateToLatest(db);
    await db.destroy();
    await expect(health.ping()).rejects.toThrow();
    await expect(health.pendingMigrations()).rejects.toThrow();
  });
});
