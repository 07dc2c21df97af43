import type { Kysely } from 'kysely';
import { EventsRepository } from '../../../src/database/events.repository.js';
import { JobStateRepository } from '../../../src/database/job-state.repository.js';
import { ReportsRepository } from '../../../src/database/reports.repository.js';
import { RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { createTestDatabase } from '../../support/database.js';
import { makeRun } from '../../support/factories.js';
import { planOf, QueryRecorder } from '../../support/query-plans.js';

const NOW = '2026-01-31T07:00:00.000Z';

/**
 * Where a plan reads a whole table or sorts rows it could have read in order: SQLite's `SCAN t`
 * without an index and `USE TEMP B-TREE FOR ORDER BY`; PostgreSQL's `Seq Scan`.
 */
function unindexedSteps(plan: string[]): string[] {
  return plan.filter(
    (step) =>
      (/^SCAN \w+$/.test(step) && !step.includes('INDEX')) ||
      step === 'USE TEMP B-TREE FOR ORDER BY' ||
      step.includes('Seq Scan'),
  );
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
    recorder.queries.length = 0;
    await work();
    expect(recorder.queries.length).toBeGreaterThan(0);
    for (const query of recorder.compiled(db)) {
      expect({ sql: query.sql, unindexed: unindexedSteps(await planOf(db, query)) }).toEqual({
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
    ['latestOf', () => runs.latestOf(['sync', 'daily'])],
    ['runningRunsOf', () => runs.runningRunsOf(['sync', 'daily'])],
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
    ['jobs pausedAmong', () => jobStates.pausedAmong(['sync', 'daily'])],
  ])('%s reads along an index', async (_name, work) => {
    await runs.insert(makeRun({ id: 'r1', job: 'sync', status: 'running', startedAt: NOW }), { leaseUntil: NOW });

    await expectEveryQueryIndexed(work);
  });
});
