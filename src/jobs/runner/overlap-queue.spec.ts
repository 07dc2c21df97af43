import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TestClock } from '../../../test/support/clock.js';
import { deferred } from '../../../test/support/deferred.js';
import { controlledJob, gatedJob, makeRun, RUN_STARTED_AT } from '../../../test/support/factories.js';
import {
  createTestRunner,
  flush,
  recordingNotifier,
  stubRunsRepository,
  typesOf,
  useFakeTimers,
  type TestRunner,
} from '../../../test/support/runner.js';
import type { Run, RunsRepository } from '../../database/runs.repository.js';
import { runEventData, type JobpulseEvent } from '../../notifier/events.js';
import type { RunnableJob } from '../job.js';
import { OverlapQueue, QUEUE_POLL_MS } from './overlap-queue.js';
import type { RunSlots } from './run-slots.js';

describe('OverlapQueue', () => {
  let clock: TestClock;
  let runs: RunsRepository;
  let published: JobpulseEvent[];
  let parts: TestRunner;
  let queue: OverlapQueue;
  let slots: RunSlots;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new TestClock(new Date(RUN_STARTED_AT));
    runs = stubRunsRepository();
    const recording = recordingNotifier(clock);
    published = recording.published;
    parts = createTestRunner({ runs, notifier: recording.notifier, clock });
    ({ queue, slots } = parts);
  });

  afterEach(async () => {
    await parts.close();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** Queues a run of `job` behind the run `ahead`. */
  function enqueue(job: RunnableJob, run = makeRun({ job: job.name }), ahead = 'ahead') {
    return queue.enqueue(job, { overlap: 'queue' }, run, {}, ahead);
  }

  /** Queues a run of `job` that the test expects to be queued. */
  async function queueRun(job: RunnableJob, run?: Run, ahead?: string): Promise<Run> {
    const queued = await enqueue(job, run, ahead);
    if (typeof queued === 'string') throw new Error(`run of ${job.name} not queued: ${queued}`);
    return queued;
  }

  /** The job's run in its slot, as the runner starts one. */
  function launch(job: RunnableJob): Run {
    const run = makeRun({ job: job.name });
    slots.launch(job, run);
    return run;
  }

  describe('enqueue', () => {
    it('records the run as queued with a lease, announces it, and keeps it', async () => {
      const run = makeRun();
      const { job } = controlledJob();
      launch(job);

      const queued = await enqueue(job, run);

      expect(queued).toEqual({ ...run, status: 'queued' });
      expect(runs.insert).toHaveBeenLastCalledWith(queued, { leaseUntil: '2025-01-01T08:00:15.000Z' });
      expect(published.filter((event) => event.type === 'job.queued').map((event) => event.data)).toEqual([
        runEventData({ ...run, status: 'queued' }),
      ]);
      expect(queue.runIds()).toEqual([run.id]);
    });

    it('refuses a second run of the job while one is queued here, recording nothing', async () => {
      const { job } = controlledJob();
      launch(job);
      await enqueue(job);
      jest.mocked(runs.insert).mockClear();

      await expect(enqueue(job)).resolves.toBe('busy');
      expect(runs.insert).not.toHaveBeenCalled();
    });

    it('refuses a second local run while the first is still being recorded', async () => {
      const { job } = controlledJob();
      launch(job);
      const insert = deferred<undefined>();
      jest.mocked(runs.insert).mockReturnValueOnce(insert.promise);

      const first = enqueue(job);
      await expect(enqueue(job)).resolves.toBe('busy');
      insert.resolve(undefined);

      await expect(first).resolves.toMatchObject({ status: 'queued' });
    });

    it.each(['busy', 'claimed'] as const)(
      'passes on a %s conflict of the database and forgets the run',
      async (conflict) => {
        const { job } = controlledJob();
        launch(job);
        jest.mocked(runs.insert).mockResolvedValueOnce(conflict);

        await expect(enqueue(job)).resolves.toBe(conflict);
        expect(queue.runIds()).toEqual([]);
        expect(published.filter((event) => event.type === 'job.queued')).toEqual([]);
      },
    );

    it('forgets the run when it cannot be recorded, so that a later one can queue', async () => {
      const { job } = controlledJob();
      launch(job);
      jest.mocked(runs.insert).mockRejectedValueOnce(new Error('connection refused'));

      await expect(enqueue(job)).rejects.toThrow('connection refused');
      expect(queue.runIds()).toEqual([]);
      await expect(enqueue(job)).resolves.toMatchObject({ status: 'queued' });
    });
  });

  describe('promotion', () => {
    it('begins the queued run once the run ahead ends here, with a fresh start time and lease', async () => {
      const { job, gates } = gatedJob('sync', 2);
      const first = launch(job);
      clock.advance(1000);
      const queued = await queueRun(job, makeRun({ startedAt: '2025-01-01T08:00:01.000Z' }), first.id);
      expect(job.contexts).toHaveLength(1);
      clock.set('2025-01-01T08:00:05.000Z');

      gates[0].resolve();
      await flush();

      expect(job.contexts.map((context) => context.runId)).toEqual([first.id, queued.id]);
      const begun = { ...queued, status: 'running', startedAt: '2025-01-01T08:00:05.000Z', node: 'replica-a' };
      expect(runs.begin).toHaveBeenCalledWith(begun, '2025-01-01T08:00:20.000Z');
      expect(slots.runIdOf('sync')).toBe(begun.id);
      expect(queue.runIds()).toEqual([]);
      gates[1].resolve();
      await flush();
      expect(typesOf(published, begun.id)).toEqual(['job.queued', 'job.started', 'job.succeeded']);
    });

    it('begins the queued run after a failed one too', async () => {
      const { job, gates } = gatedJob('sync', 2);
      launch(job);
      await enqueue(job);

      gates[0].reject(new Error('boom'));
      gates[1].resolve();
      await flush();

      expect(jest.mocked(runs.finish).mock.calls.map(([, outcome]) => outcome.status)).toEqual(['failed', 'succeeded']);
    });

    it('begins at once a run queued behind a run that ended before the queueing was recorded', async () => {
      const { job } = controlledJob();

      await enqueue(job);
      await flush();

      expect(runs.begin).toHaveBeenCalledTimes(1);
      expect(slots.has('sync')).toBe(true);
    });

    it('polls every QUEUE_POLL_MS, once bootstrapped, for a run ahead on another replica', async () => {
      useFakeTimers();
      await parts.bootstrap();
      const { job } = controlledJob();
      jest.mocked(runs.begin).mockResolvedValue('busy');
      await enqueue(job, makeRun(), 'elsewhere');
      expect(runs.begin).toHaveBeenCalledTimes(1);

      await jest.advanceTimersByTimeAsync(QUEUE_POLL_MS);
      expect(runs.begin).toHaveBeenCalledTimes(2);
      expect(slots.has('sync')).toBe(false);
      jest.mocked(runs.begin).mockResolvedValue('begun');
      await jest.advanceTimersByTimeAsync(QUEUE_POLL_MS);

      expect(runs.begin).toHaveBeenCalledTimes(3);
      expect(slots.has('sync')).toBe(true);
    });

    it('stops polling at shutdown', async () => {
      useFakeTimers();
      await parts.bootstrap();
      jest.mocked(runs.begin).mockResolvedValue('busy');
      await enqueue(controlledJob().job, makeRun(), 'elsewhere');

      parts.shutdown();
      await jest.advanceTimersByTimeAsync(10 * QUEUE_POLL_MS);

      expect(runs.begin).toHaveBeenCalledTimes(1);
    });

    it('forgets a queued run that is no longer queued (another replica marked it abandoned)', async () => {
      jest.mocked(runs.begin).mockResolvedValue('gone');
      const { job } = controlledJob();

      await enqueue(job);
      await flush();

      expect(queue.runIds()).toEqual([]);
      expect(slots.has('sync')).toBe(false);
    });

    it('keeps the run queued, to try again, when it cannot begin', async () => {
      jest.mocked(runs.begin).mockRejectedValueOnce(new Error('connection refused'));
      const error = jest.spyOn(Logger.prototype, 'error');
      const { job } = controlledJob();

      const queued = await queueRun(job);
      await flush();

      expect(queue.runIds()).toEqual([queued.id]);
      expect(error).toHaveBeenCalledWith(expect.objectContaining({ msg: 'queued run could not start', job: 'sync' }));
      queue.promote('sync');
      await flush();
      expect(slots.has('sync')).toBe(true);
    });
  });

  describe('at shutdown', () => {
    it('begins no queued run once closed, and records each as skipped once when dropped', async () => {
      const a = controlledJob('a');
      const b = controlledJob('b');
      launch(a.job);
      launch(b.job);
      const queuedA = await queueRun(a.job);
      const queuedB = await queueRun(b.job);

      await queue.close();
      b.release.resolve();
      await flush();
      await queue.dropAll();
      a.release.resolve();
      await flush();

      expect(runs.begin).not.toHaveBeenCalled();
      expect(typesOf(published, queuedA.id)).toEqual(['job.queued', 'job.skipped']);
      expect(typesOf(published, queuedB.id)).toEqual(['job.queued', 'job.skipped']);
      expect(queue.runIds()).toEqual([]);
    });

    it('waits for a promotion in flight before it closes', async () => {
      const begin = deferred<'begun'>();
      jest.mocked(runs.begin).mockReturnValueOnce(begin.promise);
      const { job } = controlledJob();
      await enqueue(job);

      let closed = false;
      const closing = queue.close().then(() => (closed = true));
      await flush();
      expect(closed).toBe(false);
      begin.resolve('begun');
      await closing;

      expect(slots.has('sync')).toBe(true);
    });
  });

  it('forgets a queued run by its id, naming its job', async () => {
    const { job } = controlledJob();
    launch(job);
    const queued = await queueRun(job);

    expect(queue.forget('another')).toBeUndefined();
    expect(queue.forget(queued.id)).toBe('sync');
    expect(queue.runIds()).toEqual([]);
  });
});
