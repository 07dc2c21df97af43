import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TestClock } from '../../../test/support/clock.js';
import { deferred } from '../../../test/support/deferred.js';
import { abortableJob, controlledJob, failingJob, FakeJob, RUN_STARTED_AT } from '../../../test/support/factories.js';
import {
  createTestRunner,
  flush,
  recordingNotifier,
  startOn,
  stubRunsRepository,
  typesOf,
  useFakeTimers,
  type TestRunner,
} from '../../../test/support/runner.js';
import type { Run, RunsRepository } from '../../database/runs.repository.js';
import { eventOf, type EventType, type JobpulseEvent } from '../../notifier/events.js';
import type { NotifierService } from '../../notifier/notifier.service.js';
import { JobRunner, RunnerClosedError } from './job-runner.js';

describe('JobRunner', () => {
  let clock: TestClock;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let parts: TestRunner;
  let runner: JobRunner;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new TestClock(new Date(RUN_STARTED_AT));
    runs = stubRunsRepository();
    ({ notifier, published } = recordingNotifier(clock));
    parts = createTestRunner({ runs, notifier, clock });
    ({ runner } = parts);
  });

  afterEach(async () => {
    await parts.close();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** The runs recorded through insert (started, queued, skipped), in order. */
  function inserted(): Run[] {
    return jest.mocked(runs.insert).mock.calls.map(([run]) => run);
  }

  /** The statuses the runs ended with, in order. */
  function outcomes(): string[] {
    return jest.mocked(runs.finish).mock.calls.map(([, outcome]) => outcome.status);
  }

  describe('start', () => {
    it('records the run with its claim and lease, runs it, and holds the job until it ends', async () => {
      const { job, release } = controlledJob();

      const start = await startOn(runner, job, { trigger: 'manual' });

      expect(start).toEqual({ accepted: true, run: expect.objectContaining({ job: 'sync', status: 'running' }) });
      expect(runs.insert).toHaveBeenCalledWith(start.run, { leaseUntil: '2025-01-01T08:00:15.000Z' });
      expect(runner.runningRunId('sync')).toBe(start.run.id);
      expect(runner.runningRunId('other')).toBeUndefined();
      expect((await job.entered.promise).runId).toBe(start.run.id);

      release.resolve();
      await flush();
      expect(runner.runningRunId('sync')).toBeUndefined();
      expect(typesOf(published, start.run.id)).toEqual(['job.started', 'job.succeeded']);
    });

    it("resolves only once the run's job.started is published, so that subscribers hear of it before the caller", async () => {
      const storing = deferred();
      jest.mocked(notifier.publish).mockImplementationOnce(async (type, data) => {
        await storing.promise;
        return eventOf<EventType>(1, type, clock.now().toISOString(), data);
      });
      let resolved = false;

      const start = runner.start(new FakeJob('sync'), { trigger: 'manual' }).then(() => (resolved = true));
      await flush();
      expect(resolved).toBe(false);

      storing.resolve();
      await start;
      expect(resolved).toBe(true);
    });

    it('claims the fire time of a tick', async () => {
      const scheduledFor = new Date('2025-01-01T07:00:00.000Z');

      await startOn(runner, new FakeJob('sync'), { trigger: 'schedule', scheduledFor });

      expect(runs.insert).toHaveBeenCalledWith(expect.objectContaining({ scheduledFor: scheduledFor.toISOString() }), {
        claimKey: 'sync@2025-01-01T07:00:00.000Z',
        leaseUntil: '2025-01-01T08:00:15.000Z',
      });
    });

    it('runs nothing and records nothing more when another replica claimed the tick', async () => {
      const job = new FakeJob('sync');
      jest.mocked(runs.insert).mockResolvedValue('claimed');

      await expect(runner.start(job, { trigger: 'schedule' })).resolves.toEqual({ accepted: false, reason: 'claimed' });

      await flush();
      expect(runs.insert).toHaveBeenCalledTimes(1);
      expect(job.contexts).toEqual([]);
      expect(published).toEqual([]);
    });

    it('frees the job for the next run after a failure', async () => {
      const job = new FakeJob('sync', () => Promise.reject(new Error('boom')));

      await startOn(runner, job, { trigger: 'manual' });
      await flush();
      const second = await startOn(runner, job, { trigger: 'manual' });

      expect(second.accepted).toBe(true);
      await flush();
      expect(outcomes()).toEqual(['failed', 'failed']);
    });

    it('rejects and frees the job when the run cannot be recorded', async () => {
      const job = new FakeJob('sync');
      jest.mocked(runs.insert).mockRejectedValue(new Error('connection refused'));

      await expect(startOn(runner, job, { trigger: 'manual' })).rejects.toThrow('connection refused');

      expect(runner.runningRunId('sync')).toBeUndefined();
      expect(job.contexts).toHaveLength(0);
    });

    it('gives up when the running run it is refused for keeps ending before it can be named', async () => {
      jest.mocked(runs.insert).mockResolvedValue('busy');

      await expect(runner.start(new FakeJob('sync'), { trigger: 'manual' })).rejects.toThrow(
        'job "sync" could not be started: its running run kept changing',
      );
      expect(runs.insert).toHaveBeenCalledTimes(3);
    });
  });

  describe('a start while the job is running', () => {
    it('is recorded as skipped, naming the running run, and does not run the job again', async () => {
      const { job, release } = controlledJob();
      const first = await startOn(runner, job, { trigger: 'schedule' });
      clock.advance(1000);

      const second = await startOn(runner, job, { trigger: 'manual' });

      expect(second).toEqual({
        accepted: false,
        reason: 'busy',
        runningRunId: first.run.id,
        run: expect.objectContaining({
          trigger: 'manual',
          status: 'skipped',
          startedAt: '2025-01-01T08:00:01.000Z',
          finishedAt: '2025-01-01T08:00:01.000Z',
          error: `skipped: run ${first.run.id} of sync is still running`,
        }),
      });
      expect(second.run.id).not.toBe(first.run.id);
      expect(inserted()).toEqual([first.run, second.run]);
      release.resolve();
      await flush();
      expect(job.contexts).toHaveLength(1);
      expect(typesOf(published, second.run.id)).toEqual(['job.skipped']);
    });

    it('is recorded as skipped naming the run another replica is running', async () => {
      jest.mocked(runs.insert).mockResolvedValueOnce('busy');
      jest.mocked(runs.runningRunOf).mockResolvedValue('elsewhere');

      const start = await startOn(runner, new FakeJob('sync'), { trigger: 'manual' });

      expect(start).toMatchObject({ accepted: false, reason: 'busy', runningRunId: 'elsewhere' });
      expect(runner.runningRunId('sync')).toBeUndefined();
    });

    it('does not block other jobs', async () => {
      const sync = controlledJob('sync');
      const cleanup = controlledJob('cleanup');

      const first = await startOn(runner, sync.job, { trigger: 'manual' });
      const second = await startOn(runner, cleanup.job, { trigger: 'manual' });

      expect([first.accepted, second.accepted]).toEqual([true, true]);
      sync.release.resolve();
      cleanup.release.resolve();
    });

    it("is queued with overlap 'queue', and a third request is skipped", async () => {
      const { job, release } = controlledJob();
      const first = await startOn(runner, job, { trigger: 'schedule', options: { overlap: 'queue' } });

      const second = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      const third = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

      expect(second).toEqual({ accepted: true, run: expect.objectContaining({ status: 'queued' }) });
      expect(third).toMatchObject({ accepted: false, reason: 'busy', runningRunId: first.run.id });
      expect(runner.activeRunIds().sort()).toEqual([first.run.id, second.run.id].sort());
      release.resolve();
      await flush();
      expect(job.contexts.map((context) => context.runId)).toEqual([first.run.id, second.run.id]);
    });

    it("is skipped with overlap 'queue' when another replica has a run of the job queued", async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual' });
      jest
        .mocked(runs.insert)
        .mockImplementation((run) => Promise.resolve(run.status === 'queued' ? 'busy' : undefined));

      const second = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

      expect(second).toMatchObject({ accepted: false, reason: 'busy', run: { status: 'skipped' } });
      release.resolve();
    });
  });

  describe('tick', () => {
    it('starts a schedule run for the fire time it is given, with its options', async () => {
      useFakeTimers();
      const job = abortableJob('sync');
      clock.set('2025-01-01T07:00:00.042Z');

      await expect(runner.tick(job, new Date('2025-01-01T07:00:00.000Z'), { timeoutMs: 5 })).resolves.toBeUndefined();
      await jest.advanceTimersByTimeAsync(5);

      expect(inserted()).toEqual([
        expect.objectContaining({
          trigger: 'schedule',
          scheduledFor: '2025-01-01T07:00:00.000Z',
          startedAt: '2025-01-01T07:00:00.042Z',
        }),
      ]);
      expect(outcomes()).toEqual(['timed_out']);
    });

    it('queues a tick through its options while the job runs', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual' });

      await runner.tick(job, new Date('2025-01-01T09:00:00.000Z'), { overlap: 'queue' });

      expect(published.find((event) => event.type === 'job.queued')?.data).toMatchObject({
        trigger: 'schedule',
        scheduledFor: '2025-01-01T09:00:00.000Z',
      });
      release.resolve();
    });

    it('records a skipped schedule run when the job is still running', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual' });

      await expect(runner.tick(job, new Date(RUN_STARTED_AT))).resolves.toBeUndefined();

      expect(published.find((event) => event.type === 'job.skipped')?.data).toMatchObject({
        trigger: 'schedule',
        scheduledFor: RUN_STARTED_AT,
      });
      release.resolve();
    });

    it('does not throw once the runner is closed, and starts nothing', async () => {
      const job = new FakeJob('sync');
      await runner.drain(1000);

      await expect(runner.tick(job, new Date(RUN_STARTED_AT))).resolves.toBeUndefined();

      expect(job.contexts).toHaveLength(0);
      expect(runs.insert).not.toHaveBeenCalled();
    });

    it('does not throw when the run cannot be recorded, and logs it with the job', async () => {
      const job = new FakeJob('sync');
      jest.mocked(runs.insert).mockRejectedValue(new Error('connection refused'));
      const error = jest.spyOn(Logger.prototype, 'error');

      await expect(runner.tick(job, new Date(RUN_STARTED_AT))).resolves.toBeUndefined();

      expect(job.contexts).toHaveLength(0);
      expect(error).toHaveBeenCalledWith({
        msg: 'scheduled run could not start',
        job: 'sync',
        scheduledFor: new Date(RUN_STARTED_AT),
        error: 'connection refused',
      });
    });
  });

  describe('drain', () => {
    it('returns at once when nothing runs, and closes the runner all the same', async () => {
      await expect(runner.drain(60_000)).resolves.toBeUndefined();

      await expect(runner.start(new FakeJob('sync'), { trigger: 'manual' })).rejects.toBeInstanceOf(RunnerClosedError);
    });

    it('waits for a run that finishes within the timeout, leaving its signal alone', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual' });
      const context = await job.entered.promise;

      let drained = false;
      const draining = runner.drain(60_000).then(() => (drained = true));
      await flush();
      expect(drained).toBe(false);
      release.resolve();
      await draining;

      expect(context.signal.aborted).toBe(false);
      expect(outcomes()).toEqual(['succeeded']);
    });

    it('aborts the signal of a run that outlives the timeout, and records it interrupted', async () => {
      const job = abortableJob('sync');
      const start = await startOn(runner, job, { trigger: 'manual' });
      const context = await job.entered.promise;

      await runner.drain(5);

      expect(context.signal.aborted).toBe(true);
      expect(runs.finish).toHaveBeenCalledWith(
        start.run.id,
        expect.objectContaining({
          status: 'interrupted',
          error: 'interrupted at shutdown after SHUTDOWN_TIMEOUT_MS (5 ms)',
        }),
      );
      expect(typesOf(published, start.run.id)).toEqual(['job.started', 'job.interrupted']);
      expect(runner.runningRunId('sync')).toBeUndefined();
    });

    it('records a run that ignores its signal interrupted as soon as it aborts it', async () => {
      const { job, release } = controlledJob();
      const start = await startOn(runner, job, { trigger: 'manual' });
      await job.entered.promise;

      await runner.drain(5);

      expect(outcomes()).toEqual(['interrupted']);
      expect(runner.runningRunId('sync')).toBeUndefined();
      release.resolve();
      await flush();
      expect(typesOf(published, start.run.id)).toEqual(['job.started', 'job.interrupted']);
    });

    it('interrupts only the runs still going at the timeout', async () => {
      const quick = controlledJob('quick');
      const stuck = controlledJob('stuck');
      const quickStart = await startOn(runner, quick.job, { trigger: 'manual' });
      const stuckStart = await startOn(runner, stuck.job, { trigger: 'manual' });

      const draining = runner.drain(20);
      quick.release.resolve();
      await draining;

      expect(jest.mocked(runs.finish).mock.calls.map(([id, { status }]) => [id, status])).toEqual([
        [quickStart.run.id, 'succeeded'],
        [stuckStart.run.id, 'interrupted'],
      ]);
    });

    it('makes no further attempt of a run interrupted at shutdown, nor announces one', async () => {
      const job = abortableJob('sync');
      const start = await startOn(runner, job, {
        trigger: 'manual',
        options: { retries: 2, backoff: { initialMs: 1 } },
      });
      await job.entered.promise;

      await runner.drain(5);
      await flush();

      expect(job.contexts).toHaveLength(1);
      expect(published.find((event) => event.type === 'job.interrupted')?.data).not.toHaveProperty('nextAttemptAt');
      expect(inserted()).toEqual([start.run]);
    });

    it('makes no further attempt of a run that fails while draining, nor announces one', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual', options: { retries: 2, backoff: { initialMs: 1 } } });
      await job.entered.promise;

      const draining = runner.drain(60_000);
      release.reject(new Error('lost the connection'));
      await draining;

      expect(job.contexts).toHaveLength(1);
      expect(outcomes()).toEqual(['failed']);
      expect(published.find((event) => event.type === 'job.failed')?.data).not.toHaveProperty('nextAttemptAt');
    });

    it('keeps the job busy through a backoff wait, and ends the wait with no further attempt', async () => {
      const job = failingJob('sync', 1);
      const first = await startOn(runner, job, {
        trigger: 'manual',
        options: { retries: 2, backoff: { initialMs: 20_000 } },
      });
      await flush();
      expect(outcomes()).toEqual(['failed']);

      const second = await startOn(runner, job, { trigger: 'manual' });
      expect(runner.runningRunId('sync')).toBe(first.run.id);
      expect(second).toMatchObject({ accepted: false, runningRunId: first.run.id });

      await runner.drain(1000);
      expect(job.contexts).toHaveLength(1);
      expect(runner.runningRunId('sync')).toBeUndefined();
    });

    it('makes start() reject with RunnerClosedError from the moment it begins', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual' });
      const draining = runner.drain(60_000);

      await expect(startOn(runner, job, { trigger: 'manual' })).rejects.toBeInstanceOf(RunnerClosedError);
      release.resolve();
      await draining;
      await expect(startOn(runner, new FakeJob('other'), { trigger: 'manual' })).rejects.toThrow('shutting down');
      expect(runs.insert).toHaveBeenCalledTimes(1);
    });

    it('records the queued runs skipped and waits for the running ones', async () => {
      const { job, release } = controlledJob();
      await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      const queued = await startOn(runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

      const draining = runner.drain(60_000);
      await flush();
      expect(typesOf(published, queued.run.id)).toEqual(['job.queued', 'job.skipped']);
      release.resolve();
      await draining;

      expect(job.contexts).toHaveLength(1);
      expect(outcomes()).toEqual(['skipped', 'succeeded']);
      expect(runner.activeRunIds()).toEqual([]);
    });

    it('gives up writing an outcome the database refuses once the timeout is over, so the process can exit', async () => {
      jest.mocked(runs.finish).mockRejectedValue(new Error('connection refused'));
      await startOn(runner, new FakeJob('sync'), { trigger: 'manual' });

      await runner.drain(50);

      expect(runs.finish).toHaveBeenCalled();
      expect(runner.runningRunId('sync')).toBeUndefined();
      expect(published.map((event) => event.type)).toEqual(['job.started']);
    });
  });

  it('lists its running and queued runs as active', async () => {
    const sync = controlledJob('sync');
    const other = controlledJob('other');
    expect(runner.activeRunIds()).toEqual([]);

    const first = await startOn(runner, sync.job, { trigger: 'manual', options: { overlap: 'queue' } });
    const second = await startOn(runner, other.job, { trigger: 'manual' });
    const queued = await startOn(runner, sync.job, { trigger: 'manual', options: { overlap: 'queue' } });

    expect(runner.activeRunIds().sort()).toEqual([first.run.id, second.run.id, queued.run.id].sort());
    other.release.resolve();
    sync.release.resolve();
    await flush();
    expect(runner.activeRunIds()).toEqual([]);
  });
});
