import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from '../../../src/database/database.js';
import { CLEANUP_BATCH_ROWS, RetentionRepository } from '../../../src/database/retention.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { instantsBetween, insertRuns, runRow } from '../../support/bulk-insert.js';
import { createTestDatabase, temporaryDatabase, testDialect } from '../../support/database.js';
import { planOf, QueryRecorder } from '../../support/query-plans.js';

const CUTOFF = '2025-06-05T12:00:00.000Z';
const BEFORE = (ms: number) => new Date(Date.parse(CUTOFF) - ms).toISOString();
const AFTER = (ms: number) => new Date(Date.parse(CUTOFF) + ms).toISOString();
const DAY = 24 * 60 * 60 * 1000;

describe('RetentionRepository', () => {
  let db: Kysely<Database>;
  let retention: RetentionRepository;

  beforeEach(async () => {
    db = await createTestDatabase();
    retention = new RetentionRepository(db);
  });

  afterEach(() => db.destroy());

  async function runIds(): Promise<string[]> {
    return (await db.selectFrom('runs').select('id').orderBy('id').execute()).map((row) => row.id);
  }

  async function insertReports(createdAt: Record<string, string>): Promise<void> {
    await db
      .insertInto('reports')
      .values(
        Object.entries(createdAt).map(([id, at]) => ({
          id,
          run_id: null,
          title: id,
          period_start: at,
          period_end: at,
          created_at: at,
          content: '{}',
        })),
      )
      .execute();
  }

  /** Events in id order, published at `at` each (an instant out of order is what a replica's skewed clock writes). */
  async function insertEvents(at: string[]): Promise<void> {
    await db
      .insertInto('events')
      .values(at.map((instant, i) => ({ topic: 'jobs', type: `event-${i + 1}`, at: instant, data: '{}' })))
      .execute();
  }

  async function eventTypes(): Promise<string[]> {
    return (await db.selectFrom('events').select('type').orderBy('id').execute()).map((row) => row.type);
  }

  it("sizes a batch for its dialect: small on SQLite, whose statements hold the event loop; large on PostgreSQL's server", () => {
    expect(retention.batchRows).toBe(CLEANUP_BATCH_ROWS[testDialect()]);
  });

  it.each([
    ['runs', (r: RetentionRepository) => r.deleteExpiredRuns(CUTOFF, 10)],
    ['reports', (r: RetentionRepository) => r.deleteExpiredReports(CUTOFF, 10)],
    ['events', (r: RetentionRepository) => r.deleteExpiredEvents(CUTOFF, 10)],
  ])(
    'deletes a batch of %s in one statement, which on PostgreSQL JIT does not compile first',
    async (_table, remove) => {
      const recorder = new QueryRecorder();

      await remove(new RetentionRepository(db.withPlugin(recorder)));

      const sent = recorder.compiled(db).map((query) => query.sql.trim());
      expect(recorder.queries.filter(({ node }) => node.kind === 'DeleteQueryNode')).toHaveLength(1);
      // First in the batch's transaction, so that it holds for the delete.
      expect(sent.indexOf('set local jit = off')).toBe(testDialect() === 'postgres' ? 0 : -1);
    },
  );

  describe('deleteExpiredRuns', () => {
    it('removes finished runs that started before the cutoff, oldest first, at most `limit`', async () => {
      await insertRuns(db, [
        runRow(BEFORE(3 * DAY), 'succeeded', { id: 'oldest' }),
        runRow(BEFORE(2 * DAY), 'failed', { id: 'older' }),
        runRow(BEFORE(1), 'timed_out', { id: 'just-old' }),
        runRow(CUTOFF, 'succeeded', { id: 'at-cutoff' }),
        runRow(AFTER(DAY), 'abandoned', { id: 'young' }),
      ]);

      expect(await retention.deleteExpiredRuns(CUTOFF, 2)).toEqual({
        count: 2,
        oldest: BEFORE(3 * DAY),
        newest: BEFORE(2 * DAY),
      });
      expect(await runIds()).toEqual(['at-cutoff', 'just-old', 'young']);

      expect(await retention.deleteExpiredRuns(CUTOFF, 2)).toEqual({
        count: 1,
        oldest: BEFORE(1),
        newest: BEFORE(1),
      });
      expect(await retention.deleteExpiredRuns(CUTOFF, 2)).toEqual({ count: 0, oldest: null, newest: null });
      expect(await runIds()).toEqual(['at-cutoff', 'young']);
    });

    it('keeps running and queued runs however old', async () => {
      await insertRuns(db, [
        runRow(BEFORE(30 * DAY), 'running', { id: 'old-running' }),
        runRow(BEFORE(30 * DAY), 'queued', { id: 'old-queued' }),
        runRow(BEFORE(DAY), 'interrupted', { id: 'old-interrupted' }),
        runRow(BEFORE(DAY), 'skipped', { id: 'old-skipped' }),
      ]);

      expect((await retention.deleteExpiredRuns(CUTOFF, 10)).count).toBe(2);
      expect(await runIds()).toEqual(['old-queued', 'old-running']);
    });

    it('keeps an expired run while a run that retries it stays, so that its retryOf names a run', async () => {
      await insertRuns(db, [
        runRow(BEFORE(DAY), 'failed', { id: 'attempt-1', max_attempts: 3 }),
        runRow(AFTER(1000), 'failed', { id: 'attempt-2', attempt: 2, max_attempts: 3, retry_of: 'attempt-1' }),
        runRow(BEFORE(2 * DAY), 'failed', { id: 'retried-by-hand' }),
        runRow(BEFORE(DAY), 'running', { id: 'hand-retry', trigger: 'retry', retry_of: 'retried-by-hand' }),
      ]);

      expect((await retention.deleteExpiredRuns(CUTOFF, 10)).count).toBe(0);
      expect(await runIds()).toEqual(['attempt-1', 'attempt-2', 'hand-retry', 'retried-by-hand']);
    });

    it('removes expired attempts of one run last first: each once the one retrying it is gone', async () => {
      await insertRuns(db, [
        runRow(BEFORE(3000), 'failed', { id: 'attempt-1', max_attempts: 3 }),
        runRow(BEFORE(2000), 'failed', { id: 'attempt-2', attempt: 2, max_attempts: 3, retry_of: 'attempt-1' }),
        runRow(BEFORE(1000), 'failed', { id: 'attempt-3', attempt: 3, max_attempts: 3, retry_of: 'attempt-2' }),
      ]);

      const batches: number[] = [];
      for (let batch = await retention.deleteExpiredRuns(CUTOFF, 10); batch.count > 0;) {
        batches.push(batch.count);
        expect(await runIds()).toEqual(['attempt-1', 'attempt-2', 'attempt-3'].slice(0, 3 - batches.length));
        batch = await retention.deleteExpiredRuns(CUTOFF, 10);
      }
      expect(batches).toEqual([1, 1, 1]);
    });
  });

  describe('deleteExpiredReports', () => {
    it('removes reports created before the cutoff, oldest first, at most `limit`', async () => {
      await insertReports({
        'report-oldest': BEFORE(90 * DAY),
        'report-old': BEFORE(DAY),
        'report-just-old': BEFORE(1),
        'report-at-cutoff': CUTOFF,
        'report-young': AFTER(DAY),
      });

      expect(await retention.deleteExpiredReports(CUTOFF, 2)).toEqual({
        count: 2,
        oldest: BEFORE(90 * DAY),
        newest: BEFORE(DAY),
      });
      expect((await retention.deleteExpiredReports(CUTOFF, 2)).count).toBe(1);
      expect((await retention.deleteExpiredReports(CUTOFF, 2)).count).toBe(0);
      const left = await db.selectFrom('reports').select('id').orderBy('id').execute();
      expect(left.map((row) => row.id)).toEqual(['report-at-cutoff', 'report-young']);
    });
  });

  describe('deleteExpiredEvents', () => {
    it('removes the oldest events published before the cutoff, at most `limit`', async () => {
      await insertEvents([BEFORE(3 * DAY), BEFORE(2 * DAY), BEFORE(1), CUTOFF, AFTER(1)]);

      expect(await retention.deleteExpiredEvents(CUTOFF, 2)).toEqual({
        count: 2,
        oldest: BEFORE(3 * DAY),
        newest: BEFORE(2 * DAY),
      });
      expect(await eventTypes()).toEqual(['event-3', 'event-4', 'event-5']);
      expect((await retention.deleteExpiredEvents(CUTOFF, 2)).count).toBe(1);
      expect((await retention.deleteExpiredEvents(CUTOFF, 2)).count).toBe(0);
      expect(await eventTypes()).toEqual(['event-4', 'event-5']);
    });

    it('stops before the first young event, so that what stays has no gap a resuming client would miss', async () => {
      // event-3 came from a replica whose clock ran ahead: event-4 and event-5 are older by their instants.
      await insertEvents([BEFORE(DAY), BEFORE(DAY), AFTER(1), BEFORE(DAY), BEFORE(DAY), AFTER(2)]);

      expect((await retention.deleteExpiredEvents(CUTOFF, 10)).count).toBe(2);
      expect((await retention.deleteExpiredEvents(CUTOFF, 10)).count).toBe(0);
      expect(await eventTypes()).toEqual(['event-3', 'event-4', 'event-5', 'event-6']);
    });
  });

  describe('query plans', () => {
    async function planOfTheBatch(remove: (retention: RetentionRepository) => Promise<unknown>): Promise<string[]> {
      const recorder = new QueryRecorder();
      await remove(new RetentionRepository(db.withPlugin(recorder)));
      const deletes = recorder.queries.filter(({ node }) => node.kind === 'DeleteQueryNode');
      expect(deletes).toHaveLength(1);
      const [{ node, queryId }] = deletes;
      return planOf(db, db.getExecutor().compileQuery(node, queryId), { sortsPricedOut: true });
    }

    /**
     * A step that reads a whole table, or sorts what it read. SQLite calls two bounded reads a SCAN too:
     * the oldest events read in rowid order (the table's own key) up to the batch's limit, and the
     * batch itself (`oldest`) once it is read.
     */
    const unindexed = (step: string) =>
      /Seq Scan|^Sort\b|TEMP B-TREE/.test(step) ||
      (/^SCAN \w+$/.test(step) && !['SCAN events', 'SCAN oldest'].includes(step));

    it.each([
      [
        'runs',
        (r: RetentionRepository) => r.deleteExpiredRuns(CUTOFF, 1000),
        {
          sqlite: ['INTEGER PRIMARY KEY (rowid=?)', 'INDEX runs_started_at (started_at<?)', 'INDEX runs_retry_of'],
          postgres: ['runs_pkey', 'runs_started_at', 'runs_retry_of'],
        },
      ],
      [
        'reports',
        (r: RetentionRepository) => r.deleteExpiredReports(CUTOFF, 1000),
        {
          sqlite: ['INTEGER PRIMARY KEY (rowid=?)', 'INDEX reports_created_at (created_at<?)'],
          postgres: ['reports_pkey', 'reports_created_at'],
        },
      ],
      [
        'events',
        (r: RetentionRepository) => r.deleteExpiredEvents(CUTOFF, 1000),
        { sqlite: ['INTEGER PRIMARY KEY (rowid=?)'], postgres: ['Index Scan using events_pkey'] },
      ],
    ])('finds a batch of %s through an index and deletes it by key', async (_table, remove, indexes) => {
      const plan = await planOfTheBatch(remove);

      expect({ plan, unindexed: plan.filter(unindexed) }).toEqual({ plan, unindexed: [] });
      for (const index of indexes[testDialect()]) {
        expect(plan.filter((step) => step.includes(index))).not.toEqual([]);
      }
    });
  });
});

describe('RetentionRepository on replicas sharing one database', () => {
  const EXPIRED = 6_000;
  const BATCH = 500;

  let remove: () => Promise<void>;
  let replicas: Kysely<Database>[];

  beforeEach(async () => {
    const database = await temporaryDatabase();
    replicas = [createDatabase(database.url), createDatabase(database.url)];
    await migrateToLatest(replicas[0]);
    remove = async () => {
      await Promise.all(replicas.map((replica) => replica.destroy()));
      await database.remove();
    };
  });

  afterEach(() => remove());

  /** Each replica removes batches until one removes nothing, all at once; resolves what each removed. */
  async function sweepOnEveryReplica(removeBatch: (retention: RetentionRepository) => Promise<number>) {
    return Promise.all(
      replicas.map(async (replica) => {
        const retention = new RetentionRepository(replica);
        let removed = 0;
        for (let count = await removeBatch(retention); count > 0; count = await removeBatch(retention)) {
          removed += count;
        }
        return removed;
      }),
    );
  }

  it('removes each expired run once, every replica a share of them, and keeps the others', async () => {
    const [db] = replicas;
    await insertRuns(db, [
      ...instantsBetween(BEFORE(10 * DAY), CUTOFF, EXPIRED).map((at) => runRow(at, 'succeeded')),
      runRow(BEFORE(DAY), 'running', { id: 'running' }),
      runRow(AFTER(1), 'succeeded', { id: 'young' }),
    ]);

    const removed = await sweepOnEveryReplica(
      async (retention) => (await retention.deleteExpiredRuns(CUTOFF, BATCH)).count,
    );

    expect(removed[0] + removed[1]).toBe(EXPIRED);
    // Each skips the batch the other holds instead of waiting for it and finding it gone.
    expect(Math.min(...removed)).toBeGreaterThan(0);
    const left = await db.selectFrom('runs').select('id').orderBy('id').execute();
    expect(left.map((row) => row.id)).toEqual(['running', 'young']);
  });

  it('removes each expired event once, the oldest first, whichever replica gets there', async () => {
    const [db] = replicas;
    const expiredAt = instantsBetween(BEFORE(DAY), CUTOFF, EXPIRED);
    for (let from = 0; from < EXPIRED; from += 1000) {
      await db
        .insertInto('events')
        .values(expiredAt.slice(from, from + 1000).map((at) => ({ topic: 'jobs', type: 'old', at, data: '{}' })))
        .execute();
    }
    await db.insertInto('events').values({ topic: 'jobs', type: 'young', at: CUTOFF, data: '{}' }).execute();

    const removed = await sweepOnEveryReplica(
      async (retention) => (await retention.deleteExpiredEvents(CUTOFF, BATCH)).count,
    );

    expect(removed[0] + removed[1]).toBe(EXPIRED);
    const left = await db.selectFrom('events').select('type').execute();
    expect(left).toEqual([{ type: 'young' }]);
  });
});
