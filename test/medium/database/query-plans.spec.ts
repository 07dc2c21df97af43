import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { EventsRepository } from '../../../src/database/events.repository.js';
import { JobStateRepository } from '../../../src/database/job-state.repository.js';
import { ReportsRepository } from '../../../src/database/reports.repository.js';
import { RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { createTestDatabase, testDialect } from '../../support/database.js';
import { makeRun } from '../../support/factories.js';

const NOW = '2026-01-31T07:00:00.000Z';

/** Remembers every query its database runs, to explain them afterwards. */
class QueryRecorder implements KyselyPlugin {
  readonly nodes: RootOperationNode[] = [];

  transformQuery({ node }: { node: RootOperationNode }): RootOperationNode {
    this.nodes.push(node);
    return node;
  }

  transformResult<R>({ result }: { result: R }): Promise<R> {
    return Promise.resolve(result);
  }
}

/**
 * Where a plan reads a whole table or sorts rows it could have read in order: SQLite's `SCAN t`
 * without an index and `USE TEMP B-TREE FOR ORDER BY`; PostgreSQL's `Seq Scan`, with sequential
 * scans priced out so that any usable index is taken however small the table.
 */
async function unindexedStepsOf(db: Kysely<Database>, query: CompiledQuery): Promise<string[]> {
  if (testDialect() === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
    );
    return rows
      .map((row) => row.detail)
      .filter(
        (detail) =>
          (/^SCAN \w+$/.test(detail) && !detail.includes('INDEX')) || detail === 'USE TEMP B-TREE FOR ORDER BY',
      );
  }
  return db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
    );
    return rows.map((row) => row['QUERY PLAN']).filter((line) => line.includes('Seq Scan'));
  });
}

describe('the queries of the API, the runner and the scheduler', () => {
  let db: Kysely<Database>;
  let recorder: QueryRecorder;
  let runs: RunsRepository;
  let events: EventsRepository;
  let reports: ReportsRepository;
  let jobStates: JobStateRepository;

  beforeEach(async () => {
    db = await createTestDatabase();
    recorder = new QueryRecorder();
    const recorded = db.withPlugin(recorder);
    runs = new RunsRepository(recorded);
    events = new EventsRepository(recorded);
    reports = new ReportsRepository(recorded);
    jobStates = new JobStateRepository(recorded);
  });

  afterEach(() => db.destroy());

  async function expectEveryQueryIndexed(work: () => Promise<unknown>): Promise<void> {
    recorder.nodes.length = 0;
    await work();
    expect(recorder.nodes.length).toBeGreaterThan(0);
    const executor = db.getExecutor();
    for (const node of recorder.nodes) {
      const query = executor.compileQuery(node, { queryId: 'explained' });
      expect({ sql: query.sql, unindexed: await unindexedStepsOf(db, query) }).toEqual({
        sql: query.sql,
        unindexed: [],
      });
    }
  }

  it.each([
    ['runningRunOf', () => runs.runningRunOf('sync')],
    ['existsForFireTime', () => runs.existsForFireTime('sync', NOW)],
    ['findById', () => runs.findById('r1')],
    ['listByJob', () => runs.listByJob('sync', { limit: 50 })],
    ['listByJob, paging back', () => runs.listByJob('sync', { limit: 50, before: NOW })],
    ['latestByJob', () => runs.latestByJob('sync')],
    ['renewLeases', () => runs.renewLeases(['r1', 'r2'], NOW)],
    ['abandonExpired', () => runs.abandonExpired(NOW, ['r1'])],
    ['finish', () => runs.finish('r1', { status: 'succeeded', finishedAt: NOW, durationMs: 5, error: null })],
    ['events listAfter', () => events.listAfter(10, 50)],
    ['events listBetween', () => events.listBetween(10, 90, ['jobs', 'reports'], 50)],
    ['events oldestId', () => events.oldestId()],
    ['events latestId', () => events.latestId()],
    ['reports findById', () => reports.findById('p1')],
    ['reports list', () => reports.list({ limit: 50 })],
    ['reports list, paging back', () => reports.list({ limit: 50, before: NOW })],
    ['reports latest', () => reports.latest()],
    ['jobs isPaused', () => jobStates.isPaused('sync')],
  ])('%s reads along an index', async (_name, work) => {
    await runs.insert(makeRun({ id: 'r1', job: 'sync', status: 'running', startedAt: NOW }), { leaseUntil: NOW });

    await expectEveryQueryIndexed(work);
  });
});
