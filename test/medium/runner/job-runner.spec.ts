import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Run, RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database } from '../../../src/database/schema.js';
import type { JobRunner } from '../../../src/jobs/runner/job-runner.js';
import { runEventData, type JobpulseEvent } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';
import { TestClock } from '../../support/clock.js';
import { leaseOf } from '../../support/database.js';
import { abortableJob, controlledJob, failingJob, FakeJob, gatedJob, RUN_STARTED_AT } from '../../support/factories.js';
import {
  createTestRunner,
  eventWhere,
  FINAL_TYPES,
  flush,
  runDataOf,
  runIdOf,
  startOn,
  typesOf,
  type TestRunner,
} from '../../support/runner.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/** The runner on a real database: what it records and announces, and the leases it keeps. */
describe('JobRunner on a database', () => {
  let storage: TestStorage;
  let db: Kysely<Database>;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let clock: TestClock;
  let parts: TestRunner;
  let runner: JobRunner;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date(RUN_STARTED_AT));
    storage = await createTestStorage(clock);
    ({ db, runs, notifier, published } = storage);
    parts = createTestRunner({ runs, notifier, clock });
    ({ runner } = parts);
  });

  afterEach(async () => {
    await parts.close();
    await storage.close();
  });

  /** Waits for the event that ends the run, then for the runner to free the job's slot. */
  async function finished(runId: string): Promise<JobpulseEvent> {
    const event = await eventWhere(
      notifier,
      published,
      (candidate) => FINAL_TYPES.includes(candidate.type) && runIdOf(candidate) === runId,
    );
    await flush();
    return event;
  }

  function record(runId: string): Promise<Run | undefined> {
    return runs.findById(runId);
  }

  it('records a run as running with its lease, then as ended with its duration, the lease cleared', async () => {
    const { job, release } = controlledJob();

    const start = await startOn(runner, job, { trigger: 'manual' });

    expect(start).toEqual({
      accepted: true,
      run: {
        id: expect.any(String),
        job: 'sync',
        trigger: 'manual',
        status: 'running',
        scheduledFor: RUN_STARTED_AT,
        startedAt: RUN_STARTED_AT,
        finishedAt: null,
        durationMs: null,
        error: null,
        attempt: 1,
        maxAttempts: 1,
        retryOf: null,
        node: 'replica-a',
      },
    });
    expect(await record(start.run.id)).toEqual(start.run);
    expect(await leaseOf(db, start.run.id)).toBe('2025-01-01T08:00:15.000Z');

    clock.advance(1500);
    release.resolve();
    await finished(start.run.id);

    expect(await record(start.run.id)).toEqual({
      ...start.run,
      status: 'succeeded',
      finishedAt: '2025-01-01T08:00:01.500Z',
      durationMs: 1500,
    });
    expect(await leaseOf(db, start.run.id)).toBeNull();
  });

  it('stores job.started and the final event, in order, on the jobs topic, as the run was recorded', async () => {
    const start = await startOn(runner, new FakeJob('sync', () => Promise.reject(new Error('disk full'))), {
      trigger: 'manual',
    });
    await finished(start.run.id);

    const stored = await storage.feed.list(0, 10);
    expect(stored).toEqual(published);
    expect(stored.map((event) => [event.type, event.topic])).toEqual([
      ['job.started', 'jobs'],
      ['job.failed', 'jobs'],
    ]);
    expect(stored[1].id).toBeGreaterThan(stored[0].id);
    expect(stored[0].data).toEqual(runEventData(start.run));
    expect(stored[1].data).toEqual(runEventData((await record(start.run.id))!));
    expect(stored[1].data).toMatchObject({ status: 'failed', error: 'disk full' });
  });

  it('records a tick for its fire time, started at the current time', async () => {
    const job = new FakeJob('sync');
    clock.set('2025-01-01T07:00:00.042Z');

    await runner.tick(job, new Date('2025-01-01T07:00:00.000Z'));
    const context = await job.entered.promise;
    await finished(context.runId);

    expect(await record(context.runId)).toMatchObject({
      trigger: 'schedule',
      status: 'succeeded',
      scheduledFor: '2025-01-01T07:00:00.000Z',
      startedAt: '2025-01-01T07:00:00.042Z',
    });
  });

  it('records a start while the job runs as skipped, with no lease, naming the running run', async () => {
    const { job, release } = controlledJob();
    const first = await startOn(runner, job, { trigger: 'schedule' });
    clock.advance(1000);

    const second = await startOn(runner, job, { trigger: 'manual' });

    expect(await record(second.run.id)).toEqual({
      ...first.run,
      id: second.run.id,
      trigger: 'manual',
      status: 'skipped',
      scheduledFor: '2025-01-01T08:00:01.000Z',
      startedAt: '2025-01-01T08:00:01.000Z',
      finishedAt: '2025-01-01T08:00:01.000Z',
      durationMs: 0,
      error: `skipped: run ${first.run.id} of sync is still running`,
    });
    expect(await leaseOf(db, second.run.id)).toBeNull();
    expect((await record(first.run.id))?.status).toBe('running');
    release.resolve();
    await finished(first.run.id);
  });

  it('accepts only one of two starts in the same tick', async () => {
    const { job, release } = controlledJob();

    const results = await Promise.all([
      startOn(runner, job, { trigger: 'manual' }),
      startOn(runner, job, { trigger: 'schedule' }),
    ]);

    const [accepted, ...others] = results.filter((result) => result.accepted);
    const refused = results.filter((result) => !result.accepted);
    expect(others).toEqual([]);
    expect(refused).toEqual([expect.objectContaining({ runningRunId: accepted.run.id })]);
    expect((await record(refused[0].run.id))?.status).toBe('skipped');
    release.resolve();
    await finished(accepted.run.id);
    expect(job.contexts).toHaveLength(1);
  });

  it('clears the lease of failed, timed-out and interrupted runs', async () => {
    const failed = await startOn(runner, new FakeJob('failing', () => Promise.reject(new Error('boom'))), {
      trigger: 'manual',
    });
    const timedOut = await startOn(runner, abortableJob('slow'), { trigger: 'manual', options: { timeoutMs: 5 } });
    await finished(failed.run.id);
    await finished(timedOut.run.id);
    const stuck = abortableJob('stuck');
    const interrupted = await startOn(runner, stuck, { trigger: 'manual' });
    await stuck.entered.promise;
    await runner.drain(5);

    expect((await runs.listByJob('stuck', { limit: 1 }))[0]?.status).toBe('interrupted');
    for (const { run } of [failed, timedOut, interrupted]) expect(await leaseOf(db, run.id)).toBeNull();
  });

  it('records each attempt as a run of its own, the retry retrying the first', async () => {
    const job = failingJob('sync', 1);
    const start = await startOn(runner, job, {
      trigger: 'manual',
      options: { retries: 2, backoff: { initialMs: 1 } },
    });
    clock.advance(1000);

    const succeeded = await eventWhere(
      notifier,
      published,
      (event) => event.type === 'job.succeeded' && runDataOf(event).attempt === 2,
    );
    const [second, first] = await runs.listByJob('sync', { limit: 10 });
    expect(first).toMatchObject({ id: start.run.id, status: 'failed', attempt: 1, maxAttempts: 3 });
    expect(second).toEqual({
      ...first,
      id: runIdOf(succeeded),
      status: 'succeeded',
      startedAt: '2025-01-01T08:00:01.000Z',
      finishedAt: '2025-01-01T08:00:01.000Z',
      durationMs: 0,
      error: null,
      attempt: 2,
      retryOf: start.run.id,
    });
    expect(typesOf(published, second.id)).toEqual(['job.started', 'job.succeeded']);
  });

  it('gives a retry a lease of its own while it runs', async () => {
    const job: FakeJob = new FakeJob('sync', () =>
      job.contexts.length === 1 ? Promise.reject(new Error('once')) : new Promise(() => undefined),
    );
    await startOn(runner, job, { trigger: 'manual', options: { retries: 1, backoff: { initialMs: 1 } } });
    clock.advance(1000);

    const started = await eventWhere(
      notifier,
      published,
      (event) => event.type === 'job.started' && runDataOf(event).attempt === 2,
    );

    expect(await leaseOf(db, runIdOf(started)!)).toBe('2025-01-01T08:00:16.000Z');
    expect(runner.activeRunIds()).toEqual([runIdOf(started)]);
  });

  describe("overlap 'queue'", () => {
    it('records the queued run with a lease, and begins it once the run ahead ends, with a fresh start and lease', async () => {
      const { job, gates } = gatedJob('sync', 2);
      const first = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      clock.advance(1000);
      const queued = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

      expect(await record(queued.run.id)).toEqual({
        ...first.run,
        id: queued.run.id,
        status: 'queued',
        scheduledFor: '2025-01-01T08:00:01.000Z',
        startedAt: '2025-01-01T08:00:01.000Z',
      });
      expect(await leaseOf(db, queued.run.id)).toBe('2025-01-01T08:00:16.000Z');

      clock.set('2025-01-01T08:00:05.000Z');
      gates[0].resolve();
      await finished(first.run.id);
      await eventWhere(
        notifier,
        published,
        (event) => event.type === 'job.started' && runIdOf(event) === queued.run.id,
      );
      expect(await record(queued.run.id)).toMatchObject({ status: 'running', startedAt: '2025-01-01T08:00:05.000Z' });
      expect(await leaseOf(db, queued.run.id)).toBe('2025-01-01T08:00:20.000Z');

      clock.advance(250);
      gates[1].resolve();
      await finished(queued.run.id);
      expect(await record(queued.run.id)).toMatchObject({ status: 'succeeded', durationMs: 250 });
      expect(await leaseOf(db, queued.run.id)).toBeNull();
      expect(typesOf(published, queued.run.id)).toEqual(['job.queued', 'job.started', 'job.succeeded']);
    });

    it('records a queued run dropped at drain as skipped, without a lease', async () => {
      const { job, release } = controlledJob();
      const first = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      const queued = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      clock.advance(300);

      const draining = runner.drain(60_000);
      await eventWhere(
        notifier,
        published,
        (event) => event.type === 'job.skipped' && runIdOf(event) === queued.run.id,
      );
      expect(await record(queued.run.id)).toEqual({
        ...queued.run,
        status: 'skipped',
        finishedAt: '2025-01-01T08:00:00.300Z',
        durationMs: 0,
        error: 'skipped: shutdown before it started',
      });
      expect(await leaseOf(db, queued.run.id)).toBeNull();
      release.resolve();
      await draining;

      expect((await record(first.run.id))?.status).toBe('succeeded');
      expect(job.contexts).toHaveLength(1);
    });
  });
});
