import { Migrator, sql, type Kysely } from 'kysely';
import { temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';
import { createDatabase, migrateToLatest, migrationProvider } from '../../../src/database/database.js';
import type { Database, NewRunRow } from '../../../src/database/schema.js';

describe('migration 0003-cluster', () => {
  let database: TemporaryDatabase;
  let db: Kysely<Database>;

  beforeEach(async () => {
    database = await temporaryDatabase();
    db = createDatabase(database.url);
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(
      '0002-run-attempts-leases-job-state',
    );
    if (error) throw error as Error;
  });

  afterEach(async () => {
    await db.destroy();
    await database.remove();
  });

  const row = (id: string, status: NewRunRow['status'], startedAt: string): NewRunRow => ({
    id,
    job: 'sync',
    trigger: 'schedule',
    status,
    scheduled_for: startedAt,
    started_at: startedAt,
    finished_at: null,
    duration_ms: null,
    error: null,
    retry_of: null,
    lease_expires_at: '2099-01-01T00:00:00.000Z',
  });

  it('keeps the newest running and queued run of a job and abandons older ones a dead process left', async () => {
    await db
      .insertInto('runs')
      .values([
        row('old-running', 'running', '2025-01-01T08:00:00.000Z'),
        row('new-running', 'running', '2025-01-01T09:00:00.000Z'),
        row('old-queued', 'queued', '2025-01-01T08:30:00.000Z'),
        row('new-queued', 'queued', '2025-01-01T09:30:00.000Z'),
      ])
      .execute();

    await migrateToLatest(db);

    const statuses = await db.selectFrom('runs').select(['id', 'status']).orderBy('id').execute();
    expect(statuses).toEqual([
      { id: 'new-queued', status: 'queued' },
      { id: 'new-running', status: 'running' },
      { id: 'old-queued', status: 'abandoned' },
      { id: 'old-running', status: 'abandoned' },
    ]);
  });

  it('then refuses a second running run of a job', async () => {
    await migrateToLatest(db);
    await db
      .insertInto('runs')
      .values(row('first', 'running', '2025-01-01T08:00:00.000Z'))
      .execute();

    await expect(
      db
        .insertInto('runs')
        .values(row('second', 'running', '2025-01-01T08:00:01.000Z'))
        .execute(),
    ).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
  });
});

describe('migration 0004-drop-jobs-first-seen-at', () => {
  let database: TemporaryDatabase;
  let db: Kysely<Database>;

  beforeEach(async () => {
    database = await temporaryDatabase();
    db = createDatabase(database.url);
  });

  afterEach(async () => {
    await db.destroy();
    await database.remove();
  });

  it("keeps each job's pause state and the instant it last changed", async () => {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0003-cluster');
    if (error) throw error as Error;
    await sql`insert into jobs (name, paused, first_seen_at, updated_at)
      values ('cleanup', 1, '2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z')`.execute(db);

    await migrateToLatest(db);

    expect(await db.selectFrom('jobs').selectAll().execute()).toEqual([
      { name: 'cleanup', paused: 1, updated_at: '2025-02-01T00:00:00.000Z' },
    ]);
  });
});
