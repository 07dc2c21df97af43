import type { Run, RunsRepository } from '../../../src/database/runs.repository.js';
import type { RunStatus, RunTrigger } from '../../../src/database/schema.js';
import { TestClock } from '../../support/clock.js';
import { makeRun } from '../../support/factories.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

const FIRE_TIME = '2025-01-01T08:00:00.000Z';

function endedRun(id: string, trigger: RunTrigger, status: Run['status'], scheduledFor = FIRE_TIME): Run {
  return makeRun({ id, job: 'hourly', trigger, status, scheduledFor, startedAt: scheduledFor });
}

describe('RunsRepository', () => {
  let storage: TestStorage;
  let runs: RunsRepository;

  beforeEach(async () => {
    storage = await createTestStorage(new TestClock(new Date(FIRE_TIME)));
    runs = storage.runs;
  });

  afterEach(() => storage.close());

  describe('existsForFireTime', () => {
    /** As the run ledger records a tick or a catch-up: with the claim of its fire time. */
    const recordTick = (run: Run) => runs.insert(run, { claimKey: `${run.job}@${run.scheduledFor}` });

    it.each([
      ['schedule', 'succeeded'],
      ['schedule', 'skipped'],
      ['schedule', 'failed'],
      ['catch-up', 'succeeded'],
    ] as const)('finds a %s run that ended %s for the fire time', async (trigger, status) => {
      await recordTick(endedRun('tick', trigger, status));

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(true);
    });

    it('finds a running schedule run for the fire time', async () => {
      await recordTick({ ...endedRun('tick', 'schedule', 'running'), finishedAt: null, durationMs: null });

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(true);
    });

    it.each(['manual', 'retry', 'startup'] as const)(
      'ignores a %s run (it claims no fire time) that happens to have the fire time as its scheduledFor',
      async (trigger) => {
        await runs.insert(endedRun('by-hand', trigger, 'succeeded'));

        expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(false);
      },
    );

    it('ignores the runs of other fire times and of other jobs', async () => {
      await recordTick(endedRun('earlier', 'schedule', 'succeeded', '2025-01-01T07:00:00.000Z'));
      await recordTick({ ...endedRun('other', 'schedule', 'succeeded'), job: 'daily' });

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(false);
    });
  });

  describe('the latest and the running run of several jobs', () => {
    const run = (id: string, job: string, startedAt: string, status: RunStatus = 'succeeded') =>
      runs.insert(makeRun({ id, job, status, startedAt }));

    it("finds each job's latest run as its first page would list it, the later id first among equal starts", async () => {
      await run('h1', 'hourly', '2025-01-01T07:00:00.000Z');
      await run('h3', 'hourly', '2025-01-01T08:00:00.000Z', 'failed');
      await run('h2', 'hourly', '2025-01-01T08:00:00.000Z');
      await run('d1', 'daily', '2025-01-01T06:00:00.000Z');
      await run('o1', 'other', '2025-01-01T09:00:00.000Z');

      const latest = await runs.latestOf(['hourly', 'daily', 'never-ran']);

      expect([...latest.keys()].sort()).toEqual(['daily', 'hourly']);
      for (const job of ['hourly', 'daily']) {
        expect(latest.get(job)).toEqual((await runs.listByJob(job, { limit: 1 }))[0]);
      }
      expect(latest.get('hourly')).toMatchObject({ id: 'h3', status: 'failed' });
    });

    it('finds the running run of each job that has one', async () => {
      await run('h1', 'hourly', '2025-01-01T07:00:00.000Z', 'running');
      await run('h0', 'hourly', '2025-01-01T06:00:00.000Z');
      await run('d1', 'daily', '2025-01-01T06:00:00.000Z', 'queued');
      await run('o1', 'other', '2025-01-01T06:00:00.000Z', 'running');

      expect(await runs.runningRunsOf(['hourly', 'daily'])).toEqual(new Map([['hourly', 'h1']]));
    });

    it('asks nothing for no jobs', async () => {
      expect(await runs.latestOf([])).toEqual(new Map());
      expect(await runs.runningRunsOf([])).toEqual(new Map());
    });
  });

  describe('summarizeStartedBetween', () => {
    const FROM = '2025-01-01T07:00:00.000Z';
    const TO = '2025-01-02T07:00:00.000Z';
    let sequence = 0;

    /** A run of `job` started within the period (a second apart, in insertion order) unless `startedAt` says otherwise. */
    async function insertRun(job: string, status: RunStatus, durationMs: number | null, startedAt?: string) {
      sequence += 1;
      const run = makeRun({
        id: `run-${String(sequence).padStart(3, '0')}`,
        job,
        status,
        startedAt: startedAt ?? new Date(Date.parse(FROM) + sequence * 1000).toISOString(),
        durationMs,
      });
      await runs.insert(run);
      return run;
    }

    const summarize = (percentiles = [50, 95], recentFailures = 20) =>
      runs.summarizeStartedBetween(FROM, TO, { percentiles, recentFailures });

    it('counts the runs of each job by status, only those started within [from, to), jobs by name', async () => {
      await insertRun('sync', 'succeeded', 10, '2025-01-01T06:59:59.999Z');
      await insertRun('sync', 'succeeded', 10, FROM);
      await insertRun('sync', 'failed', 10);
      await insertRun('sync', 'running', null);
      await insertRun('cleanup', 'skipped', 0, '2025-01-02T06:59:59.999Z');
      await insertRun('cleanup', 'succeeded', 10, TO);
      await insertRun('other', 'succeeded', 10, '2025-01-03T00:00:00.000Z');

      const summaries = await summarize();

      expect(summaries.map(({ job, runs: counts }) => ({ job, counts }))).toEqual([
        { job: 'cleanup', counts: { skipped: 1 } },
        { job: 'sync', counts: { succeeded: 1, failed: 1, running: 1 } },
      ]);
    });

    it('takes each percentile by nearest rank, from either end, and the longest', async () => {
      for (const durationMs of [70, 10, 100, 40, 90, 20, 60, 30, 80, 50])
        await insertRun('sync', 'succeeded', durationMs);

      const [sync] = await summarize([10, 11, 50, 90, 91, 95, 100]);

      // Ten values: rank ceil(p / 10), so p10 -> 10, p11 -> 20, p50 -> 50, p90 -> 90, and 100 above.
      expect(sync.durationMs).toEqual({ percentiles: [10, 20, 50, 90, 100, 100, 100], max: 100 });
    });

    it('rounds the rank up for uneven counts, and takes a single value for every percentile', async () => {
      for (const durationMs of [300, 100, 250]) await insertRun('three', 'succeeded', durationMs);
      await insertRun('one', 'succeeded', 42);

      const [one, three] = await summarize([33, 50, 95]);

      // Three values: p33 -> rank ceil(0.99) = 1, p50 -> rank 2, p95 -> rank 3.
      expect(three.durationMs).toEqual({ percentiles: [100, 250, 300], max: 300 });
      expect(one.durationMs).toEqual({ percentiles: [42, 42, 42], max: 42 });
    });

    it('takes the durations of runs that ended after doing or failing their work, none of other runs or other periods', async () => {
      await insertRun('sync', 'succeeded', 400);
      await insertRun('sync', 'failed', 100);
      await insertRun('sync', 'timed_out', 900);
      await insertRun('sync', 'interrupted', 500);
      await insertRun('sync', 'abandoned', null);
      await insertRun('sync', 'skipped', 9000);
      await insertRun('sync', 'running', 5000);
      await insertRun('sync', 'queued', 8000);
      await insertRun('sync', 'succeeded', 1, '2025-01-01T06:00:00.000Z');
      await insertRun('sync', 'succeeded', 99_999, TO);

      const [sync] = await summarize();

      // [100, 400, 500, 900]: p50 rank 2 -> 400, p95 rank 4 -> 900.
      expect(sync.durationMs).toEqual({ percentiles: [400, 900], max: 900 });
    });

    it('gives no durations to a job whose runs have none to give', async () => {
      await insertRun('sync', 'skipped', 0);
      await insertRun('sync', 'abandoned', null);
      await insertRun('sync', 'running', null);

      const [sync] = await summarize();

      expect(sync.durationMs).toBeNull();
    });

    it('counts every failed, timed-out, interrupted and abandoned run and lists the most recent, newest first', async () => {
      const sameInstant = '2025-01-01T12:00:00.000Z';
      await insertRun('sync', 'failed', 5);
      const timedOut = await insertRun('sync', 'timed_out', 5);
      await insertRun('sync', 'succeeded', 5);
      const interrupted = await insertRun('sync', 'interrupted', 5, sameInstant);
      const abandoned = await insertRun('sync', 'abandoned', null, sameInstant);
      await insertRun('sync', 'skipped', 0);
      await insertRun('sync', 'failed', 5, '2025-01-01T06:00:00.000Z');
      await insertRun('other', 'failed', 5);

      const [, sync] = await summarize([50], 3);

      expect(sync.failures.total).toBe(4);
      // Of two at the same instant, the greater id first.
      expect(sync.failures.recent).toEqual([abandoned, interrupted, timedOut]);
    });
  });
});
