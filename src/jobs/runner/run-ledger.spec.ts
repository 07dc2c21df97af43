import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { TestClock } from '../../../test/support/clock.js';
import { makeRun, RUN_STARTED_AT } from '../../../test/support/factories.js';
import { recordingNotifier, stubRunsRepository, testRunnerEnv, useFakeTimers } from '../../../test/support/runner.js';
import type { Run, RunsRepository } from '../../database/runs.repository.js';
import { runEventData, type JobpulseEvent } from '../../notifier/events.js';
import type { NotifierService } from '../../notifier/notifier.service.js';
import { RECORD_RETRY_MS, RunLedger } from './run-ledger.js';

describe('RunLedger', () => {
  let clock: TestClock;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let ledger: RunLedger;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new TestClock(new Date(RUN_STARTED_AT));
    runs = stubRunsRepository();
    ({ notifier, published } = recordingNotifier(clock));
    ledger = new RunLedger(runs, notifier, testRunnerEnv(), clock);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  describe('draft', () => {
    it('makes a running first attempt, started now on this replica, for the time the request is for', () => {
      expect(ledger.draft('sync', { trigger: 'schedule', scheduledFor: new Date('2025-01-01T07:59:00.000Z') })).toEqual(
        {
          id: expect.any(String),
          job: 'sync',
          trigger: 'schedule',
          status: 'running',
          scheduledFor: '2025-01-01T07:59:00.000Z',
          startedAt: RUN_STARTED_AT,
          finishedAt: null,
          durationMs: null,
          error: null,
          attempt: 1,
          maxAttempts: 1,
          retryOf: null,
          node: 'replica-a',
        },
      );
    });

    it('is scheduled for the request time when no fire time is given, with an attempt per retry and the retried run', () => {
      const run = ledger.draft('sync', { trigger: 'retry', retryOf: 'earlier', options: { retries: 2 } });

      expect(run).toMatchObject({ scheduledFor: RUN_STARTED_AT, maxAttempts: 3, retryOf: 'earlier' });
    });

    it('gives every run its own version 7 id, a later run sorting after an earlier one (retention deletes in that order)', () => {
      const first = ledger.draft('sync', { trigger: 'manual' }).id;
      const second = ledger.draftRetry(ledger.draft('sync', { trigger: 'manual' })).id;

      expect([first, second].every((id) => isUUID(id, '7'))).toBe(true);
      expect(second > first).toBe(true);
    });

    it('makes the next attempt of a run a run of its own, starting now, that retries it', () => {
      const failed = makeRun({
        status: 'failed',
        attempt: 1,
        maxAttempts: 3,
        scheduledFor: '2025-01-01T07:00:00.000Z',
      });
      clock.advance(5000);

      expect(ledger.draftRetry(failed)).toEqual({
        ...failed,
        id: expect.any(String),
        status: 'running',
        startedAt: '2025-01-01T08:00:05.000Z',
        finishedAt: null,
        durationMs: null,
        error: null,
        attempt: 2,
        retryOf: failed.id,
      });
    });
  });

  describe('claimOf', () => {
    it.each(['schedule', 'catch-up'] as const)('makes a %s run claim its fire time', (trigger) => {
      const scheduledFor = new Date('2025-01-01T07:00:00.000Z');

      expect(ledger.claimOf('sync', { trigger, scheduledFor })).toEqual({ claimKey: 'sync@2025-01-01T07:00:00.000Z' });
    });

    it('makes a start-up run claim the STARTUP_RUN_WINDOW before now', () => {
      const ledger = new RunLedger(runs, notifier, testRunnerEnv({ STARTUP_RUN_WINDOW: '60000' }), clock);

      expect(ledger.claimOf('sync', { trigger: 'startup' })).toEqual({ noStartupSince: '2025-01-01T07:59:00.000Z' });
    });

    it.each(['manual', 'retry'] as const)('makes a %s run claim nothing', (trigger) => {
      expect(ledger.claimOf('sync', { trigger })).toEqual({});
    });
  });

  describe('leases', () => {
    it('records a run with its claim and a lease of RUN_LEASE_MS from now', async () => {
      const run = makeRun();

      await ledger.open(run, { claimKey: 'sync@x' });

      expect(runs.insert).toHaveBeenCalledWith(run, { claimKey: 'sync@x', leaseUntil: '2025-01-01T08:00:15.000Z' });
    });

    it('takes the lease length from RUN_LEASE_MS', async () => {
      const ledger = new RunLedger(runs, notifier, testRunnerEnv({ RUN_LEASE_MS: '60000' }), clock);

      expect(ledger.leaseUntil()).toBe('2025-01-01T08:01:00.000Z');
      await ledger.renewLeases(['a', 'b']);
      expect(runs.renewLeases).toHaveBeenCalledWith(['a', 'b'], '2025-01-01T08:01:00.000Z');
    });

    it('passes the conflict of an insert on', async () => {
      jest.mocked(runs.insert).mockResolvedValue('claimed');

      await expect(ledger.open(makeRun())).resolves.toBe('claimed');
    });

    it('sweeps the runs whose lease expired before now, except the ones given', async () => {
      const abandoned = makeRun({ status: 'abandoned' });
      jest.mocked(runs.abandonExpired).mockResolvedValue([abandoned]);

      await expect(ledger.abandonExpired(['ours'])).resolves.toEqual([abandoned]);
      expect(runs.abandonExpired).toHaveBeenCalledWith(RUN_STARTED_AT, ['ours']);
    });
  });

  describe('begin', () => {
    it('begins a queued run now, on this replica, with a fresh lease', async () => {
      const queued = makeRun({ status: 'queued', node: 'replica-b' });
      clock.advance(4000);

      const begun = await ledger.begin(queued);

      const started = { ...queued, status: 'running', startedAt: '2025-01-01T08:00:04.000Z', node: 'replica-a' };
      expect(begun).toEqual(started);
      expect(runs.begin).toHaveBeenCalledWith(started, '2025-01-01T08:00:19.000Z');
    });

    it.each(['busy', 'gone'] as const)('resolves %s when the database says so', async (answer) => {
      jest.mocked(runs.begin).mockResolvedValue(answer);

      await expect(ledger.begin(makeRun({ status: 'queued' }))).resolves.toBe(answer);
    });
  });

  describe('skip', () => {
    it('records and announces the run as skipped, naming the running run, with no lease', async () => {
      const run = makeRun();

      const skipped: Run = {
        ...run,
        status: 'skipped',
        finishedAt: run.startedAt,
        durationMs: 0,
        error: 'skipped: run ahead of sync is still running',
      };

      await expect(ledger.skip(run, 'ahead', { claimKey: 'sync@x' })).resolves.toEqual(skipped);
      expect(runs.insert).toHaveBeenCalledWith(skipped, { claimKey: 'sync@x' });
      expect(published).toEqual([
        expect.objectContaining({ type: 'job.skipped', topic: 'jobs', data: runEventData(skipped) }),
      ]);
    });

    it('records nothing and announces nothing when another replica recorded the skipped tick first', async () => {
      jest.mocked(runs.insert).mockResolvedValue('claimed');

      await expect(ledger.skip(makeRun(), 'ahead', { claimKey: 'sync@x' })).resolves.toBeUndefined();
      expect(published).toEqual([]);
    });
  });

  describe('finish', () => {
    it('records the outcome with its end and duration, and announces it', async () => {
      const run = makeRun();
      clock.advance(1500);

      await ledger.finish(run, { status: 'succeeded', error: null });

      const finished: Run = { ...run, status: 'succeeded', finishedAt: '2025-01-01T08:00:01.500Z', durationMs: 1500 };
      expect(runs.finish).toHaveBeenCalledWith(run.id, finished);
      expect(published.map((event) => [event.type, event.data])).toEqual([['job.succeeded', runEventData(finished)]]);
      expect(published[0].data).not.toHaveProperty('nextAttemptAt');
    });

    it.each([
      ['failed', 'job.failed'],
      ['timed_out', 'job.timed_out'],
      ['interrupted', 'job.interrupted'],
    ] as const)('announces a %s attempt with %s and its error', async (status, type) => {
      const run = makeRun();

      await ledger.finish(run, { status, error: 'it went wrong', stack: 'Error: it went wrong\n    at job' });

      expect(published).toEqual([
        expect.objectContaining({
          type,
          data: expect.objectContaining({ runId: run.id, status, error: 'it went wrong' }),
        }),
      ]);
      expect(published[0].data).not.toHaveProperty('stack');
    });

    it('announces when the next attempt is due', async () => {
      await ledger.finish(makeRun(), { status: 'failed', error: 'boom' }, new Date('2025-01-01T08:00:02.000Z'));

      expect(published[0].data).toMatchObject({ nextAttemptAt: '2025-01-01T08:00:02.000Z' });
    });

    it('announces nothing when another replica marked the run abandoned meanwhile', async () => {
      jest.mocked(runs.finish).mockResolvedValue(false);
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const run = makeRun();

      await ledger.finish(run, { status: 'succeeded', error: null });

      expect(published).toEqual([]);
      expect(warn).toHaveBeenCalledWith({
        msg: 'run outcome (succeeded) not recorded: another replica marked the run abandoned',
        job: 'sync',
        runId: run.id,
      });
    });
  });

  describe('a database outage', () => {
    it('writes the outcome again every RECORD_RETRY_MS until the database takes it', async () => {
      useFakeTimers();
      const log = jest.spyOn(Logger.prototype, 'log');
      jest
        .mocked(runs.finish)
        .mockRejectedValueOnce(new Error('connection refused'))
        .mockRejectedValueOnce(new Error('connection refused'));
      const run = makeRun();

      const finishing = ledger.finish(run, { status: 'succeeded', error: null });
      await jest.advanceTimersByTimeAsync(RECORD_RETRY_MS - 1);
      expect(runs.finish).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(RECORD_RETRY_MS + 1);
      await finishing;

      expect(runs.finish).toHaveBeenCalledTimes(3);
      expect(published.map((event) => event.type)).toEqual(['job.succeeded']);
      expect(log).toHaveBeenCalledWith({
        msg: 'run outcome (succeeded) recorded after retrying',
        job: 'sync',
        runId: run.id,
      });
    });

    it('gives up, announcing nothing, once shutdown stops waiting', async () => {
      useFakeTimers();
      jest.mocked(runs.finish).mockRejectedValue(new Error('connection refused'));
      const error = jest.spyOn(Logger.prototype, 'error');
      const run = makeRun();

      const finishing = ledger.finish(run, { status: 'succeeded', error: null });
      await jest.advanceTimersByTimeAsync(3 * RECORD_RETRY_MS);
      ledger.stopRetrying();
      await finishing;

      expect(runs.finish).toHaveBeenCalledTimes(5);
      expect(published).toEqual([]);
      expect(error).toHaveBeenLastCalledWith({
        msg: 'run outcome (succeeded) could not be recorded',
        job: 'sync',
        runId: run.id,
        error: 'connection refused',
      });
    });
  });

  it('records a queued run dropped at shutdown as skipped, ended now, and announces it', async () => {
    const queued = makeRun({ status: 'queued' });
    clock.advance(300);

    await ledger.dropQueued(queued);

    const skipped: Run = {
      ...queued,
      status: 'skipped',
      finishedAt: '2025-01-01T08:00:00.300Z',
      durationMs: 0,
      error: 'skipped: shutdown before it started',
    };
    expect(runs.finish).toHaveBeenCalledWith(queued.id, skipped);
    expect(published.map((event) => [event.type, event.data])).toEqual([['job.skipped', runEventData(skipped)]]);
  });

  describe('progress', () => {
    it('publishes job.progress with the percent clamped to 0–100 and the message', async () => {
      const run = makeRun();

      for (const [percent, message] of [
        [-20, 'below'],
        [0, undefined],
        [42.5, 'halfway'],
        [100, 'done'],
        [250, 'above'],
        [Infinity, 'infinite'],
        [NaN, 'not a number'],
      ] as const) {
        await ledger.progress(run, percent, message);
      }

      expect(published.map((event) => [event.type, event.topic, event.data])).toEqual(
        [
          [0, 'below'],
          [0, null],
          [42.5, 'halfway'],
          [100, 'done'],
          [100, 'above'],
          [100, 'infinite'],
          [0, 'not a number'],
        ].map(([percent, message]) => ['job.progress', 'jobs', { runId: run.id, job: 'sync', percent, message }]),
      );
    });
  });

  it('logs an event it could not publish with its run, and goes on', async () => {
    jest.mocked(notifier.publish).mockRejectedValue(new Error('events table locked'));
    const error = jest.spyOn(Logger.prototype, 'error');
    const run = makeRun();

    await expect(ledger.publish('job.started', run)).resolves.toBeUndefined();
    await expect(ledger.progress(run, 50)).resolves.toBeUndefined();

    expect(error).toHaveBeenCalledWith({
      msg: 'event could not be published',
      job: 'sync',
      runId: run.id,
      error: 'events table locked',
    });
  });
});
