import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../../src/common/clock.js';
import { loadEnv } from '../../../src/config/env.js';
import type { EventsRepository } from '../../../src/database/events.repository.js';
import type { ReportsRepository } from '../../../src/database/reports.repository.js';
import { RetentionRepository } from '../../../src/database/retention.repository.js';
import type { RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database, RunStatus } from '../../../src/database/schema.js';
import { instantsBetween, insertRuns, runRow } from '../../support/bulk-insert.js';
import { makeRun } from '../../support/factories.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import type { JobpulseEvent } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';
import { CleanupJob } from '../../../src/jobs/builtin/cleanup.job.js';
import type { JobContext } from '../../../src/jobs/job.js';

const NOW = '2025-06-15T12:00:00.000Z';
// Retention below: runs 10 days, reports 20 days, events 6 hours.
const RUN_CUTOFF = '2025-06-05T12:00:00.000Z';
const REPORT_CUTOFF = '2025-05-26T12:00:00.000Z';
const EVENT_CUTOFF = '2025-06-15T06:00:00.000Z';

const fixedClock: Clock = { now: () => new Date(NOW) };

/** A clock that moves a second on each reading: every batch is a second after the last progress report. */
function tickingClock(): Clock {
  let current = Date.parse(NOW);
  return { now: () => new Date((current += 1000) - 1000) };
}

describe('CleanupJob', () => {
  let db: Kysely<Database>;
  let runs: RunsRepository;
  let reports: ReportsRepository;
  let events: EventsRepository;
  let notifier: NotifierService;
  let job: CleanupJob;
  let published: JobpulseEvent[];
  let storage: TestStorage;
  let retention: RetentionRepository;
  const env = loadEnv({ RUN_RETENTION_DAYS: '10', REPORT_RETENTION_DAYS: '20', EVENT_RETENTION_HOURS: '6' });

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    storage = await createTestStorage(fixedClock);
    ({ db, runs, reports, events, notifier, published } = storage);
    retention = new RetentionRepository(db);
    job = new CleanupJob(retention, notifier, env, fixedClock);
  });

  afterEach(async () => {
    await storage.close();
  });

  function context(runId = 'cleanup-run', overrides: Partial<JobContext> = {}): JobContext {
    return {
      runId,
      job: 'cleanup',
      trigger: 'manual',
      attempt: 1,
      signal: new AbortController().signal,
      progress: async () => {},
      ...overrides,
    };
  }

  async function insertRun(id: string, startedAt: string, status: RunStatus): Promise<void> {
    const unfinished = status === 'running' || status === 'queued';
    const run = makeRun({
      id,
      trigger: 'schedule',
      status,
      startedAt,
      finishedAt: unfinished ? null : startedAt,
      durationMs: unfinished ? null : 0,
      error: null,
    });
    await runs.insert(run);
  }

  async function insertReport(id: string, createdAt: string): Promise<void> {
    await reports.insert({
      id,
      runId: null,
      title: id,
      periodStart: createdAt,
      periodEnd: createdAt,
      createdAt,
      content: {},
    });
  }

  async function insertEvent(type: string, at: string): Promise<void> {
    await events.insert({ topic: 'jobs', type, at, data: {} });
  }

  async function seed(): Promise<void> {
    await insertRun('old-succeeded', '2025-06-01T00:00:00.000Z', 'succeeded');
    await insertRun('old-failed', '2025-05-01T00:00:00.000Z', 'failed');
    await insertRun('old-skipped', '2025-06-05T11:59:59.999Z', 'skipped');
    await insertRun('old-running', '2025-05-20T00:00:00.000Z', 'running');
    await insertRun('at-cutoff', RUN_CUTOFF, 'succeeded');
    await insertRun('young', '2025-06-14T00:00:00.000Z', 'failed');

    await insertReport('report-old', '2025-05-01T00:00:00.000Z');
    await insertReport('report-just-old', '2025-05-26T11:59:59.999Z');
    await insertReport('report-at-cutoff', REPORT_CUTOFF);
    await insertReport('report-young', '2025-06-10T00:00:00.000Z');

    await insertEvent('event-old', '2025-06-14T12:00:00.000Z');
    await insertEvent('event-just-old', '2025-06-15T05:59:59.999Z');
    await insertEvent('event-at-cutoff', EVENT_CUTOFF);
    await insertEvent('event-young', '2025-06-15T11:00:00.000Z');
  }

  async function remainingRunIds(): Promise<string[]> {
    const rows = await db.selectFrom('runs').select('id').orderBy('id').execute();
    return rows.map((row) => row.id);
  }

  async function remainingReportIds(): Promise<string[]> {
    const rows = await db.selectFrom('reports').select('id').orderBy('id').execute();
    return rows.map((row) => row.id);
  }

  async function remainingEventTypes(): Promise<string[]> {
    return (await events.listAfter(0, 100)).map((event) => event.type);
  }

  it('removes finished runs started before the run cutoff and keeps younger and running ones', async () => {
    await seed();

    await job.run(context());

    expect(await remainingRunIds()).toEqual(['at-cutoff', 'old-running', 'young']);
  });

  it('removes old runs of every final status', async () => {
    await insertRun('old-timed-out', '2025-06-01T00:00:00.000Z', 'timed_out');
    await insertRun('old-interrupted', '2025-06-01T00:00:00.000Z', 'interrupted');
    await insertRun('old-abandoned', '2025-06-01T00:00:00.000Z', 'abandoned');
    await insertRun('young-timed-out', '2025-06-14T00:00:00.000Z', 'timed_out');

    await job.run(context());

    expect(await remainingRunIds()).toEqual(['young-timed-out']);
  });

  // A run waiting in the overlap queue has not finished: removed, it would go unrecorded when it begins.
  it('keeps a queued run that has not started yet, however old', async () => {
    await insertRun('old-queued', '2025-05-20T00:00:00.000Z', 'queued');

    await job.run(context());

    expect(await remainingRunIds()).toEqual(['old-queued']);
  });

  it('removes reports created before the report cutoff and keeps younger ones', async () => {
    await seed();

    await job.run(context());

    expect(await remainingReportIds()).toEqual(['report-at-cutoff', 'report-young']);
  });

  it('removes events before the event cutoff and keeps younger ones', async () => {
    await seed();

    await job.run(context());

    expect(await remainingEventTypes()).toEqual(['event-at-cutoff', 'event-young', 'cleanup.completed']);
  });

  it('publishes cleanup.completed with the removed counts and the cutoffs', async () => {
    await seed();

    await job.run(context('cleanup-run-1'));

    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      topic: 'system',
      type: 'cleanup.completed',
      data: {
        runId: 'cleanup-run-1',
        removed: { runs: 3, reports: 2, events: 2 },
        cutoffs: { runs: RUN_CUTOFF, reports: REPORT_CUTOFF, events: EVENT_CUTOFF },
      },
    });
  });

  it('removes nothing from empty tables and reports zero counts', async () => {
    await job.run(context());

    expect(published.map((event) => event.data)).toEqual([
      {
        runId: 'cleanup-run',
        removed: { runs: 0, reports: 0, events: 0 },
        cutoffs: { runs: RUN_CUTOFF, reports: REPORT_CUTOFF, events: EVENT_CUTOFF },
      },
    ]);
  });

  it('uses the default retention of 30 days, 90 days and 24 hours', async () => {
    const defaults = new CleanupJob(retention, notifier, loadEnv({}), fixedClock);

    await defaults.run(context());

    expect(published[0].data).toMatchObject({
      cutoffs: {
        runs: '2025-05-16T12:00:00.000Z',
        reports: '2025-03-17T12:00:00.000Z',
        events: '2025-06-14T12:00:00.000Z',
      },
    });
  });

  it('keeps an old run while a run that retries it stays, and removes both once both are old', async () => {
    await insertRun('old-attempt-1', '2025-06-01T00:00:00.000Z', 'failed');
    await runs.insert(
      makeRun({
        id: 'young-attempt-2',
        status: 'failed',
        startedAt: '2025-06-14T00:00:00.000Z',
        attempt: 2,
        retryOf: 'old-attempt-1',
      }),
    );
    await insertRun('old-attempt-a', '2025-05-01T00:00:00.000Z', 'failed');
    await runs.insert(
      makeRun({
        id: 'old-attempt-b',
        status: 'failed',
        startedAt: '2025-05-01T00:01:00.000Z',
        attempt: 2,
        retryOf: 'old-attempt-a',
      }),
    );

    await job.run(context());

    expect(await remainingRunIds()).toEqual(['old-attempt-1', 'young-attempt-2']);
  });

  it('starts no batch once the signal is aborted, and rejects with its reason', async () => {
    const expired = instantsBetween('2025-05-01T00:00:00.000Z', RUN_CUTOFF, 5 * retention.batchRows);
    await insertRuns(
      db,
      expired.map((at) => runRow(at, 'succeeded')),
    );
    const controller = new AbortController();
    const reason = new Error('timed out after 60000 ms');
    const ticking = new CleanupJob(retention, notifier, env, tickingClock());

    const run = ticking.run(
      context('cleanup-run', {
        signal: controller.signal,
        progress: () => Promise.resolve(controller.abort(reason)),
      }),
    );

    await expect(run).rejects.toBe(reason);
    expect(await remainingRunIds()).toHaveLength(4 * retention.batchRows);
    expect(published).toEqual([]);
  });

  describe('with a large backlog', () => {
    const EXPIRED = 100_000;
    // Retried by runs still kept: they stay too.
    const RETRIED = 10;
    const FRESH = 1_000;
    const RUNNING = 10;
    /** The monitor's timer looks at the loop every millisecond. */
    const RESOLUTION_MS = 1;
    /**
     * The longest the loop may wait: one batch, with room for a loaded machine. Here (SQLite in
     * memory) the longest waits were 10 to 13 ms on a quiet 2-core machine, and up to 120 ms while
     * other test runs and benchmarks loaded it to 4 or 5; PostgreSQL holds no loop (10 to 50 ms).
     * Deleting these runs in one statement made it wait 1.4 s: 250 ms fails that by far, and leaves
     * twice the worst wait seen.
     */
    const LONGEST_WAIT_MS = 250;

    beforeEach(async () => {
      const expiredAt = instantsBetween('2025-04-01T00:00:00.000Z', RUN_CUTOFF, EXPIRED + RETRIED);
      await insertRuns(db, [
        ...expiredAt.slice(0, EXPIRED).map((at) => runRow(at, 'succeeded')),
        ...expiredAt.slice(EXPIRED).map((at, i) => runRow(at, 'failed', { id: `retried-${i}` })),
        ...instantsBetween(RUN_CUTOFF, NOW, FRESH).map((at, i) =>
          runRow(at, 'failed', i < RETRIED ? { id: `retry-${i}`, retry_of: `retried-${i}` } : {}),
        ),
        ...Array.from({ length: RUNNING }, (_, i) =>
          runRow('2025-05-01T00:00:00.000Z', 'running', { job: `job-${i}` }),
        ),
      ]);
    }, 60_000);

    it('removes exactly the expired runs, keeps the loop answering between batches and reports its progress', async () => {
      const progress: { percent: number; message?: string }[] = [];
      const ticking = new CleanupJob(retention, notifier, env, tickingClock());
      const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      loop.enable();
      // The monitor measures from its timer's first tick, and records a wait only when a later tick comes.
      await delay(10 * RESOLUTION_MS);

      await ticking.run(
        context('cleanup-run', {
          progress: (percent, message) => Promise.resolve(void progress.push({ percent, message })),
        }),
      );
      await delay(10 * RESOLUTION_MS);
      loop.disable();

      const { kept } = await db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('kept'))
        .where('started_at', '<', RUN_CUTOFF)
        .executeTakeFirstOrThrow();
      expect(Number(kept)).toBe(RETRIED + RUNNING);
      const { total } = await db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('total'))
        .executeTakeFirstOrThrow();
      expect(Number(total)).toBe(RETRIED + FRESH + RUNNING);
      expect(published[0].data).toMatchObject({ removed: { runs: EXPIRED, reports: 0, events: 0 } });

      expect(loop.max / 1e6).toBeLessThan(LONGEST_WAIT_MS);

      const batches = Math.ceil(EXPIRED / retention.batchRows);
      expect(progress).toHaveLength(batches + 3);
      expect(progress[0].message).toBe(`runs: ${retention.batchRows} removed`);
      expect(progress.slice(batches - 1, batches + 1)).toEqual([
        { percent: expect.closeTo(100 / 3, 0), message: `runs: ${EXPIRED} removed` },
        { percent: expect.closeTo(100 / 3), message: `runs: ${EXPIRED} removed` },
      ]);
      expect(progress.slice(-2)).toEqual([
        { percent: expect.closeTo(200 / 3), message: 'reports: 0 removed' },
        { percent: 100, message: 'events: 0 removed' },
      ]);
      const percents = progress.map((report) => report.percent);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
    }, 120_000);
  });
});
