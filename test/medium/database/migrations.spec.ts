import { Migrator, sql, type Kysely } from 'kysely';
import { temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';
import { createDatabase, isPostgresUrl, migrateToLatest, migrationProvider } from '../../../src/database/database.js';
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

describe('migration 0006-postgres-native-types', () => {
  let database: TemporaryDatabase;
  let db: Kysely<Database>;

  beforeEach(async () => {
    database = await temporaryDatabase();
    db = createDatabase(database.url);
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0004-drop-jobs-first-seen-at');
    if (error) throw error as Error;
    await sql`insert into runs (id, job, trigger, status, scheduled_for, started_at, finished_at, duration_ms, attempt, max_attempts)
      values ('r1', 'sync', 'schedule', 'succeeded', '2026-01-31T07:00:00.000Z', '2026-01-31T07:00:00.012Z',
        '2026-01-31T07:00:01.512Z', 1500, 1, 1)`.execute(db);
    await sql`insert into reports (id, run_id, title, period_start, period_end, created_at, content)
      values ('p1', 'r1', 'Daily', '2026-01-30T07:00:00.000Z', '2026-01-31T07:00:00.000Z', '2026-01-31T07:00:01.500Z',
        '{"runs":{"total":3},"jobs":[{"job":"sync","failed":0}]}')`.execute(db);
    await sql`insert into events (topic, type, at, data)
      values ('jobs', 'job.succeeded', '2026-01-31T07:00:01.512Z', '{"runId":"r1","job":"sync","status":"succeeded"}')`.execute(
      db,
    );
  });

  afterEach(async () => {
    await db.destroy();
    await database.remove();
  });

  /** What the repositories read: JSON documents compare as documents (jsonb keeps its own key order). */
  const stored = async () => ({
    runs: await db.selectFrom('runs').select(['scheduled_for', 'started_at', 'finished_at', 'duration_ms']).execute(),
    reports: (await db.selectFrom('reports').select(['period_start', 'created_at', 'content']).execute()).map(
      (report) => ({ ...report, content: JSON.parse(report.content) as unknown }),
    ),
    events: (await db.selectFrom('events').select(['id', 'at', 'data']).execute()).map((event) => ({
      ...event,
      data: JSON.parse(event.data) as unknown,
    })),
  });

  it('gives PostgreSQL its own types and SQLite its portable ones', async () => {
    await migrateToLatest(db);

    const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = current_schema() and column_name in ('started_at', 'at', 'content', 'data', 'id', 'updated_at')
        and table_name in ('runs', 'events', 'reports', 'jobs')`
      .execute(db)
      .catch(() => ({ rows: [] }));
    const typeOf = (table: string, column: string) =>
      rows.find((row) => row.table_name === table && row.column_name === column)?.data_type;

    if (isPostgresUrl(database.url)) {
      expect(typeOf('runs', 'started_at')).toBe('timestamp with time zone');
      expect(typeOf('jobs', 'updated_at')).toBe('timestamp with time zone');
      expect(typeOf('events', 'at')).toBe('timestamp with time zone');
      expect(typeOf('events', 'data')).toBe('jsonb');
      expect(typeOf('reports', 'content')).toBe('jsonb');
      expect(typeOf('events', 'id')).toBe('bigint');
    } else {
      // SQLite has no information_schema: the columns keep their declared text types.
      const { rows: columns } = await sql<{ name: string; type: string }>`pragma table_info(runs)`.execute(db);
      expect(columns.find((column) => column.name === 'started_at')?.type).toBe('varchar(30)');
    }
  });

  it('converts the stored values in place, and reads them back exactly as before', async () => {
    const before = await stored();

    await migrateToLatest(db);

    expect(await stored()).toEqual(before);
    expect((await stored()).events[0].data).toEqual({ runId: 'r1', job: 'sync', status: 'succeeded' });
  });

  it('compares and orders instants as instants, given as ISO-8601 text', async () => {
    await migrateToLatest(db);

    const before = await db
      .selectFrom('runs')
      .select('id')
      .where('started_at', '<', '2026-01-31T07:00:00.013Z')
      .execute();
    const after = await db
      .selectFrom('runs')
      .select('id')
      .where('started_at', '>', '2026-01-31T07:00:00.012Z')
      .execute();

    expect(before).toEqual([{ id: 'r1' }]);
    expect(after).toEqual([]);
  });

  it('goes back to text without losing a millisecond', async () => {
    const before = await stored();
    await migrateToLatest(db);

    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0004-drop-jobs-first-seen-at');
    if (error) throw error as Error;

    expect(await stored()).toEqual(before);
  });
});
