import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TestClock } from '../../../test/support/clock.js';
import {
  abortableJob,
  controlledJob,
  failingJob,
  FakeJob,
  makeRun,
  RUN_STARTED_AT,
} from '../../../test/support/factories.js';
import {
  recordingNotifier,
  runDataOf,
  stubRunsRepository,
  testRunnerEnv,
  typesOf,
  useFakeTimers,
} from '../../../test/support/runner.js';
import type { Run, RunsRepository } from '../../database/runs.repository.js';
import type { JobpulseEvent } from '../../notifier/events.js';
import type { RunnableJob } from '../job.js';
import type { JobOptions } from '../job-options.js';
import { AttemptExecutor, RunAbort } from './attempt.js';
import { RunLedger } from './run-ledger.js';
import { Slot } from './run-slots.js';

describe('AttemptExecutor', () => {
  let clock: TestClock;
  let runs: RunsRepository;
  let published: JobpulseEvent[];
  let ledger: RunLedger;
  let executor: AttemptExecutor;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    useFakeTimers();
    clock = new TestClock(new Date(RUN_STARTED_AT));
    runs = stubRunsRepository();
    const recording = recordingNotifier(clock);
    published = recording.published;
    ledger = new RunLedger(runs, recording.notifier, testRunnerEnv(), clock);
    executor = new AttemptExecutor(ledger, clock);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** Runs the job's first attempt, recorded as `run`, in a slot of its own. */
  function execute(job: RunnableJob, options?: JobOptions, run = firstRunOf(job, options)) {
    const slot = new Slot(job.name, run.id);
    const done = executor.run(job, run, slot, options);
    return { run, slot, done };
  }

  function firstRunOf(job: RunnableJob, options: JobOptions = {}): Run {
    return makeRun({ job: job.name, maxAttempts: 1 + (options.retries ?? 0) });
  }

  /** The outcomes written, in order: [attempt, status, error]. */
  function outcomes(): [number, string, string | null][] {
    return jest.mocked(runs.finish).mock.calls.map(([, outcome]) => {
      const run = outcome as Run;
      return [run.attempt, run.status, run.error];
    });
  }

  /** The attempts recorded after the first (each retry is inserted when it starts). */
  function retries(): Run[] {
    return jest.mocked(runs.insert).mock.calls.map(([run]) => run);
  }

  describe('an attempt', () => {
    it('announces job.started before the job begins, and job.succeeded once it has', async () => {
      let typesWhenEntered: string[] = [];
      const job = new FakeJob('sync', () => {
        typesWhenEntered = published.map((event) => event.type);
        return Promise.resolve();
      });

      const { run, done } = execute(job);
      await done;

      expect(typesWhenEntered).toEqual(['job.started']);
      expect(typesOf(published, run.id)).toEqual(['job.started', 'job.succeeded']);
      expect(published[0].data).toMatchObject({ runId: run.id, status: 'running', finishedAt: null });
      expect(outcomes()).toEqual([[1, 'succeeded', null]]);
    });

    it('records the error of a failing job, announcing no next attempt by default', async () => {
      const { run, done } = execute(new FakeJob('sync', () => Promise.reject(new Error('disk full'))));
      await done;

      expect(outcomes()).toEqual([[1, 'failed', 'disk full']]);
      expect(typesOf(published, run.id)).toEqual(['job.started', 'job.failed']);
      expect(published[1].data).toMatchObject({ status: 'failed', error: 'disk full' });
      expect(published[1].data).not.toHaveProperty('nextAttemptAt');
    });

    it('contains an exception thrown synchronously by run()', async () => {
      const job: RunnableJob = {
        name: 'sync',
        run: () => {
          throw new Error('thrown before any await');
        },
      };

      await execute(job).done;

      expect(outcomes()).toEqual([[1, 'failed', 'thrown before any await']]);
    });

    it('records a thrown non-Error value as its string', async () => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a job may reject with anything
      await execute(new FakeJob('sync', () => Promise.reject('plain string'))).done;

      expect(outcomes()).toEqual([[1, 'failed', 'plain string']]);
    });

    it.each(['manual', 'startup', 'schedule', 'catch-up', 'retry'] as const)(
      'gives the job its runId, name, trigger %s, attempt and a live signal',
      async (trigger) => {
        const { job, release } = controlledJob('daily-report');
        const { run, done } = execute(job, {}, makeRun({ job: 'daily-report', trigger }));

        const context = await job.entered.promise;
        expect(context).toEqual({
          runId: run.id,
          job: 'daily-report',
          trigger,
          attempt: 1,
          signal: expect.any(AbortSignal),
          progress: expect.any(Function),
        });
        expect(context.signal.aborted).toBe(false);

        release.resolve();
        await done;
        expect(context.signal.aborted).toBe(false);
      },
    );

    it("publishes the job's progress for its run", async () => {
      const { run, done } = execute(new FakeJob('sync', ({ progress }) => progress(10, 'a tenth')));
      await done;

      expect(published.filter((event) => event.type === 'job.progress').map((event) => event.data)).toEqual([
        { runId: run.id, job: 'sync', percent: 10, message: 'a tenth' },
      ]);
    });

    it('ends interrupted, and is not retried, when its signal is aborted with that reason', async () => {
      const job = abortableJob('sync');
      const { slot, done } = execute(job, { retries: 2 });
      await job.entered.promise;

      slot.stop();
      slot.abort(new RunAbort('interrupted', 'interrupted at shutdown'));
      await done;

      expect(outcomes()).toEqual([[1, 'interrupted', 'interrupted at shutdown']]);
      expect(job.contexts[0].signal.reason).toEqual(new RunAbort('interrupted', 'interrupted at shutdown'));
      expect(runDataOf(published[1])).not.toHaveProperty('nextAttemptAt');
    });

    it('ends as soon as its signal is aborted, even if the job ignores it; its late end changes nothing', async () => {
      const { job, release } = controlledJob();
      const { run, slot, done } = execute(job);
      await job.entered.promise;

      slot.abort(new RunAbort('interrupted', 'interrupted at shutdown'));
      await done;
      release.resolve();
      await jest.advanceTimersByTimeAsync(0);

      expect(outcomes()).toEqual([[1, 'interrupted', 'interrupted at shutdown']]);
      expect(typesOf(published, run.id)).toEqual(['job.started', 'job.interrupted']);
    });
  });

  describe('timeoutMs', () => {
    it('aborts the signal at the timeout and records the run timed_out', async () => {
      const job = abortableJob('sync');
      const { run, done } = execute(job, { timeoutMs: 5000 });
      const context = await job.entered.promise;

      await jest.advanceTimersByTimeAsync(4999);
      expect(context.signal.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await done;

      expect(context.signal.reason).toEqual(new RunAbort('timed_out', 'timed out after 5000 ms'));
      expect(outcomes()).toEqual([[1, 'timed_out', 'timed out after 5000 ms']]);
      expect(typesOf(published, run.id)).toEqual(['job.started', 'job.timed_out']);
      expect(published[1].data).not.toHaveProperty('nextAttemptAt');
    });

    it('records the run timed_out without waiting for a job that ignores its signal', async () => {
      const { job, release } = controlledJob();
      const { run, done } = execute(job, { timeoutMs: 5 });

      await jest.advanceTimersByTimeAsync(5);
      await done;
      release.resolve();
      await jest.advanceTimersByTimeAsync(0);

      expect(outcomes()).toEqual([[1, 'timed_out', 'timed out after 5 ms']]);
      expect(typesOf(published, run.id)).toEqual(['job.started', 'job.timed_out']);
    });

    it('leaves the signal of a run that ends within its timeout alone, and clears the timer', async () => {
      const job = new FakeJob('sync');

      await execute(job, { timeoutMs: 60_000 }).done;

      expect(job.contexts[0].signal.aborted).toBe(false);
      expect(jest.getTimerCount()).toBe(0);
      expect(outcomes()).toEqual([[1, 'succeeded', null]]);
    });
  });

  describe('retries and backoff', () => {
    /** With the jitter at its top, each wait is exactly the exponential delay. */
    beforeEach(() => jest.spyOn(Math, 'random').mockReturnValue(1));

    const retrying = (retries: number, initialMs = 1000): JobOptions => ({ retries, backoff: { initialMs } });

    it('records a failed attempt and its succeeding retry as two runs, the retry after its backoff', async () => {
      const job = failingJob('sync', 1);
      const { run: first, done } = execute(job, retrying(2), makeRun({ trigger: 'schedule', maxAttempts: 3 }));

      await jest.advanceTimersByTimeAsync(999);
      expect(job.contexts).toHaveLength(1);
      clock.advance(1000);
      await jest.advanceTimersByTimeAsync(1);
      await done;

      const [second] = retries();
      expect(second).toEqual({
        ...first,
        id: expect.any(String),
        startedAt: '2025-01-01T08:00:01.000Z',
        attempt: 2,
        retryOf: first.id,
      });
      expect(second.id).not.toBe(first.id);
      expect(runs.insert).toHaveBeenCalledWith(second, { leaseUntil: '2025-01-01T08:00:16.000Z' });
      expect(outcomes()).toEqual([
        [1, 'failed', 'attempt 1 failed'],
        [2, 'succeeded', null],
      ]);
      expect(job.contexts.map((context) => [context.runId, context.attempt])).toEqual([
        [first.id, 1],
        [second.id, 2],
      ]);
      expect(job.contexts[0].signal).not.toBe(job.contexts[1].signal);
    });

    it('announces the next attempt in the event of the attempt that will be retried', async () => {
      const { run, done } = execute(failingJob('sync', 1), retrying(2));
      await jest.advanceTimersByTimeAsync(1000);
      await done;

      expect(published.map((event) => [event.type, runDataOf(event).attempt])).toEqual([
        ['job.started', 1],
        ['job.failed', 1],
        ['job.started', 2],
        ['job.succeeded', 2],
      ]);
      expect(runDataOf(published[1])).toMatchObject({
        runId: run.id,
        attempt: 1,
        maxAttempts: 3,
        error: 'attempt 1 failed',
        nextAttemptAt: '2025-01-01T08:00:01.000Z',
      });
      expect(runDataOf(published[3])).toMatchObject({ attempt: 2, retryOf: run.id });
      expect(published[3].data).not.toHaveProperty('nextAttemptAt');
    });

    it('measures the backoff from the end of the failed attempt', async () => {
      const job: FakeJob = new FakeJob('sync', () => {
        if (job.contexts.length > 1) return Promise.resolve();
        clock.advance(10_000);
        return Promise.reject(new Error('slow failure'));
      });

      const { done } = execute(job, retrying(1));
      await jest.advanceTimersByTimeAsync(1000);
      await done;

      expect(runDataOf(published[1])).toMatchObject({
        finishedAt: '2025-01-01T08:00:10.000Z',
        nextAttemptAt: '2025-01-01T08:00:11.000Z',
      });
    });

    it('doubles the backoff with each retry, jittered, up to maxMs', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const job = failingJob('sync', Infinity);

      const { done } = execute(job, { retries: 3, backoff: { initialMs: 400, maxMs: 1000 } });
      await jest.advanceTimersByTimeAsync(199);
      expect(job.contexts).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(job.contexts).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(399);
      expect(job.contexts).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(job.contexts).toHaveLength(3);
      // Capped: half of maxMs, not of 1600 ms.
      await jest.advanceTimersByTimeAsync(500);
      await done;

      expect(job.contexts).toHaveLength(4);
    });

    it('stops after 1 + retries attempts of a job that fails every time', async () => {
      const job = failingJob('sync', Infinity);

      const { run, done } = execute(job, retrying(2));
      await jest.advanceTimersByTimeAsync(1000 + 2000);
      await done;

      expect(outcomes()).toEqual([
        [1, 'failed', 'attempt 1 failed'],
        [2, 'failed', 'attempt 2 failed'],
        [3, 'failed', 'attempt 3 failed'],
      ]);
      const [second, third] = retries();
      expect([second.retryOf, third.retryOf]).toEqual([run.id, second.id]);
      expect(third.maxAttempts).toBe(3);
      expect(
        published.filter((event) => event.type === 'job.failed').map((event) => typeof runDataOf(event).nextAttemptAt),
      ).toEqual(['string', 'string', 'undefined']);
      expect(job.contexts).toHaveLength(3);
    });

    it('retries a timed-out attempt', async () => {
      const job: FakeJob = new FakeJob('sync', () =>
        job.contexts.length === 1 ? new Promise(() => undefined) : Promise.resolve(),
      );

      const { done } = execute(job, { timeoutMs: 5, ...retrying(1) });
      await jest.advanceTimersByTimeAsync(5 + 1000);
      await done;

      expect(outcomes()).toEqual([
        [1, 'timed_out', 'timed out after 5 ms'],
        [2, 'succeeded', null],
      ]);
      expect(runDataOf(published[1])).toHaveProperty('nextAttemptAt');
    });

    it('makes no further attempt, nor announces one, when the slot is stopped while the job runs', async () => {
      const { job, release } = controlledJob();
      const { slot, done } = execute(job, retrying(2));
      await job.entered.promise;

      slot.stop();
      release.reject(new Error('lost the connection'));
      await done;

      expect(outcomes()).toEqual([[1, 'failed', 'lost the connection']]);
      expect(runDataOf(published[1])).not.toHaveProperty('nextAttemptAt');
    });

    it('makes no further attempt once the slot is stopped during the backoff wait', async () => {
      const job = failingJob('sync', 1);
      const { slot, done } = execute(job, retrying(2, 20_000));
      await jest.advanceTimersByTimeAsync(0);
      expect(outcomes()).toHaveLength(1);

      slot.stop();
      await done;

      expect(job.contexts).toHaveLength(1);
      expect(retries()).toEqual([]);
    });

    it('records a retry interrupted, without running it, when the slot is stopped while the retry is recorded', async () => {
      const job = failingJob('sync', 1);
      const options = retrying(1);
      const run = firstRunOf(job, options);
      const slot = new Slot('sync', run.id);
      jest.mocked(runs.insert).mockImplementation(() => {
        slot.stop();
        return Promise.resolve(undefined);
      });

      const done = executor.run(job, run, slot, options);
      await jest.advanceTimersByTimeAsync(1000);
      await done;

      expect(job.contexts).toHaveLength(1);
      expect(outcomes()).toEqual([
        [1, 'failed', 'attempt 1 failed'],
        [2, 'interrupted', 'interrupted at shutdown before the retry began'],
      ]);
    });

    it('records the retry skipped when another replica started the job during the backoff', async () => {
      const job = failingJob('sync', 1);
      jest
        .mocked(runs.insert)
        .mockImplementation((run) => Promise.resolve(run.status === 'running' ? 'busy' : undefined));
      jest.mocked(runs.runningRunOf).mockResolvedValue('elsewhere');

      const { run, done } = execute(job, retrying(1));
      await jest.advanceTimersByTimeAsync(1000);
      await done;

      expect(job.contexts).toHaveLength(1);
      const [retry, skipped] = retries();
      expect(skipped).toEqual({
        ...retry,
        status: 'skipped',
        finishedAt: retry.startedAt,
        durationMs: 0,
        error: 'skipped: run elsewhere of sync is still running',
      });
      expect(skipped).toMatchObject({ attempt: 2, retryOf: run.id });
      expect(published.map((event) => event.type)).toEqual(['job.started', 'job.failed', 'job.skipped']);
    });

    it('makes no further attempt when the retry cannot be recorded', async () => {
      const job = failingJob('sync', 1);
      jest.mocked(runs.insert).mockRejectedValue(new Error('connection refused'));
      const error = jest.spyOn(Logger.prototype, 'error');

      const { done } = execute(job, retrying(1));
      await jest.advanceTimersByTimeAsync(1000);
      await done;

      expect(job.contexts).toHaveLength(1);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ msg: 'retry could not be recorded', job: 'sync', error: 'connection refused' }),
      );
    });
  });
});
