import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TestClock } from '../../../test/support/clock.js';
import { abortableJob, controlledJob, makeRun, RUN_STARTED_AT } from '../../../test/support/factories.js';
import {
  createTestRunner,
  flush,
  recordingNotifier,
  stubRunsRepository,
  testRunnerEnv,
  typesOf,
  useFakeTimers,
  type TestRunner,
} from '../../../test/support/runner.js';
import type { RunsRepository } from '../../database/runs.repository.js';
import { runEventData, type JobpulseEvent } from '../../notifier/events.js';
import type { NotifierService } from '../../notifier/notifier.service.js';
import { RunAbort } from './attempt.js';

describe('LeaseKeeper', () => {
  let clock: TestClock;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let parts: TestRunner;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    useFakeTimers();
    clock = new TestClock(new Date(RUN_STARTED_AT));
    runs = stubRunsRepository();
    ({ notifier, published } = recordingNotifier(clock));
    parts = withLease(3000);
  });

  afterEach(async () => {
    await parts.close();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  function withLease(runLeaseMs: number): TestRunner {
    return createTestRunner({ runs, notifier, clock, env: testRunnerEnv({ RUN_LEASE_MS: String(runLeaseMs) }) });
  }

  /** A running run of `sync` and a queued one behind it, both this process's. */
  async function runningAndQueued() {
    const { job, release } = controlledJob();
    const running = makeRun({ job: 'sync' });
    parts.slots.launch(job, running);
    const queued = await parts.queue.enqueue(job, { overlap: 'queue' }, makeRun(), {}, running.id);
    if (typeof queued === 'string') throw new Error(`not queued: ${queued}`);
    return { running, queued, release };
  }

  it('lists the runs this process is running or has queued as its active runs', async () => {
    const other = controlledJob('other');
    parts.slots.launch(other.job, makeRun({ job: 'other', id: 'other-run' }));
    const { running, queued, release } = await runningAndQueued();

    expect(parts.leases.activeRunIds().sort()).toEqual([running.id, queued.id, 'other-run'].sort());
    expect(parts.runner.activeRunIds()).toEqual(parts.leases.activeRunIds());

    other.release.resolve();
    await flush();
    expect(parts.leases.activeRunIds().sort()).toEqual([running.id, queued.id].sort());
    release.resolve();
    await flush();
    // The queued run began and ended too.
    expect(typesOf(published, queued.id)).toEqual(['job.queued', 'job.started', 'job.succeeded']);
    expect(parts.leases.activeRunIds()).toEqual([]);
  });

  describe('lease renewal', () => {
    it('renews the leases of its running and queued runs every third of RUN_LEASE_MS, once bootstrapped', async () => {
      await parts.bootstrap();
      const { running, queued } = await runningAndQueued();

      await jest.advanceTimersByTimeAsync(999);
      expect(runs.renewLeases).not.toHaveBeenCalled();
      clock.advance(1000);
      await jest.advanceTimersByTimeAsync(1);

      expect(runs.renewLeases).toHaveBeenCalledTimes(1);
      expect(runs.renewLeases).toHaveBeenCalledWith([running.id, queued.id], '2025-01-01T08:00:04.000Z');
      await jest.advanceTimersByTimeAsync(2000);
      expect(runs.renewLeases).toHaveBeenCalledTimes(3);
    });

    it('does not renew before bootstrap, nor after shutdown', async () => {
      await runningAndQueued();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(runs.renewLeases).not.toHaveBeenCalled();

      await parts.bootstrap();
      parts.shutdown();
      await jest.advanceTimersByTimeAsync(10_000);

      expect(runs.renewLeases).not.toHaveBeenCalled();
    });

    it('logs a renewal that fails, and tries again at the next', async () => {
      await parts.bootstrap();
      const error = jest.spyOn(Logger.prototype, 'error');
      jest.mocked(runs.renewLeases).mockRejectedValueOnce(new Error('connection refused'));
      const { running } = await runningAndQueued();

      await jest.advanceTimersByTimeAsync(2000);

      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ msg: 'run leases could not be renewed', error: 'connection refused' }),
      );
      expect(runs.renewLeases).toHaveBeenCalledTimes(2);
      expect(parts.slots.runIdOf('sync')).toBe(running.id);
    });
  });

  describe('a lost lease', () => {
    it('stops the run whose lease another replica found expired, with no further attempt', async () => {
      await parts.bootstrap();
      const job = abortableJob('sync');
      const running = makeRun({ maxAttempts: 3 });
      parts.slots.launch(job, running, { retries: 2, backoff: { initialMs: 1 } });
      const context = await job.entered.promise;
      jest.mocked(runs.renewLeases).mockResolvedValueOnce([running.id]);
      // Another replica's sweep took the run: its outcome is not recorded over the abandoned one.
      jest.mocked(runs.finish).mockResolvedValue(false);

      await jest.advanceTimersByTimeAsync(1000);
      await flush();

      expect(context.signal.reason).toEqual(
        new RunAbort('interrupted', 'lease lost: another replica marked the run abandoned'),
      );
      expect(runs.finish).toHaveBeenCalledWith(running.id, expect.objectContaining({ status: 'interrupted' }));
      expect(job.contexts).toHaveLength(1);
      expect(parts.slots.has('sync')).toBe(false);
      expect(typesOf(published, running.id)).toEqual(['job.started']);
    });

    it('forgets the queued run whose lease was lost, and leaves the running one alone', async () => {
      await parts.bootstrap();
      const { running, queued } = await runningAndQueued();
      jest.mocked(runs.renewLeases).mockResolvedValueOnce([queued.id]);

      await jest.advanceTimersByTimeAsync(1000);

      expect(parts.queue.runIds()).toEqual([]);
      expect(parts.slots.runIdOf('sync')).toBe(running.id);
    });
  });

  describe('the abandoned-run sweep', () => {
    it('marks the runs whose lease expired abandoned at bootstrap, except its own, and announces each', async () => {
      const { running, queued } = await runningAndQueued();
      const dead = makeRun({ id: 'dead', status: 'abandoned', finishedAt: RUN_STARTED_AT });
      jest.mocked(runs.abandonExpired).mockResolvedValueOnce([dead]);
      const warn = jest.spyOn(Logger.prototype, 'warn');

      await parts.bootstrap();

      expect(runs.abandonExpired).toHaveBeenCalledWith(RUN_STARTED_AT, [running.id, queued.id]);
      expect(published.filter((event) => event.type === 'job.abandoned').map((event) => event.data)).toEqual([
        runEventData(dead),
      ]);
      expect(warn).toHaveBeenCalledWith({
        msg: 'run abandoned',
        job: 'sync',
        runId: 'dead',
        trigger: dead.trigger,
        attempt: dead.attempt,
        node: dead.node,
        startedAt: dead.startedAt,
      });
    });

    it('sweeps again every fifth of RUN_LEASE_MS', async () => {
      await parts.bootstrap();
      expect(runs.abandonExpired).toHaveBeenCalledTimes(1);
      clock.advance(600);

      await jest.advanceTimersByTimeAsync(599);
      expect(runs.abandonExpired).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);

      expect(runs.abandonExpired).toHaveBeenCalledTimes(2);
      expect(runs.abandonExpired).toHaveBeenLastCalledWith('2025-01-01T08:00:00.600Z', []);
    });

    it('stops sweeping at shutdown', async () => {
      await parts.bootstrap();
      parts.shutdown();

      await jest.advanceTimersByTimeAsync(10_000);

      expect(runs.abandonExpired).toHaveBeenCalledTimes(1);
    });

    it('logs a sweep that fails without failing the bootstrap', async () => {
      jest.mocked(runs.abandonExpired).mockRejectedValueOnce(new Error('connection refused'));
      const error = jest.spyOn(Logger.prototype, 'error');

      await expect(parts.bootstrap()).resolves.toBeUndefined();

      expect(error).toHaveBeenCalledWith({ msg: 'abandoned runs could not be swept', error: 'connection refused' });
      await jest.advanceTimersByTimeAsync(600);
      expect(runs.abandonExpired).toHaveBeenCalledTimes(2);
    });
  });
});
