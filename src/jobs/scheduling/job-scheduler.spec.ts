import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { systemClock } from '../../common/clock.js';
import { MAX_TIMER_MS, loadEnv } from '../../config/env.js';
import type { JobState, JobStateRepository } from '../../database/job-state.repository.js';
import { CronSchedule } from '../../schedules/cron-schedule.js';
import type { JobOptions } from '../job-options.js';
import type { JobDefinition } from '../registry/job-definition.js';
import { JobRegistry } from '../registry/job-registry.js';
import type { JobRunner } from '../runner/job-runner.js';
import type { CatchUp } from './catch-up.js';
import { JobScheduler } from './job-scheduler.js';

const T0 = '2025-01-01T08:20:00.000Z';
const HOURLY = '0 0 * * * ?';

function definition(name: string, cron: string | null, options: JobOptions = {}, timeZone = 'UTC'): JobDefinition {
  return {
    name,
    schedule: cron === null ? null : CronSchedule.parse(cron, timeZone),
    timeZone,
    options,
    source: `TestJobs.${name}`,
    run: () => Promise.resolve(),
  };
}

/** Timers are fake, and so is the system clock the scheduler reads: time moves only when the spec moves it. */
describe('JobScheduler', () => {
  let registry: SchedulerRegistry;
  let jobs: JobRegistry;
  let paused: Map<string, boolean>;
  let pauseStateReadable: boolean;
  let ticks: { job: string; scheduledFor: string; options: JobOptions | undefined; at: string }[];
  let drained: number[];
  let caughtUp: { job: string; state: JobState }[];
  let adapterHost: HttpAdapterHost;
  let scheduler: JobScheduler;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date(T0) });
    registry = new SchedulerRegistry();
    jobs = new JobRegistry();
    paused = new Map();
    pauseStateReadable = true;
    ticks = [];
    drained = [];
    caughtUp = [];
    const runner: Pick<JobRunner, 'tick' | 'drain'> = {
      tick: (job, scheduledFor, options) => {
        ticks.push({ job: job.name, scheduledFor: scheduledFor.toISOString(), options, at: new Date().toISOString() });
        return Promise.resolve();
      },
      drain: (timeoutMs) => {
        drained.push(timeoutMs);
        return Promise.resolve();
      },
    };
    const jobStates: Pick<JobStateRepository, 'ensure' | 'isPaused'> = {
      ensure: (names, now) =>
        Promise.resolve(new Map(names.map((name) => [name, { name, paused: paused.get(name) ?? false, since: now }]))),
      isPaused: (name) =>
        pauseStateReadable ? Promise.resolve(paused.get(name) ?? false) : Promise.reject(new Error('database down')),
    };
    const catchUp: Pick<CatchUp, 'run'> = {
      run: (job, state) => {
        caughtUp.push({ job: job.name, state });
        return Promise.resolve();
      },
    };
    // No HTTP adapter, as in a TestingModule: nothing waits for the server to listen.
    adapterHost = new HttpAdapterHost();
    scheduler = new JobScheduler(
      jobs,
      registry,
      runner as JobRunner,
      jobStates as JobStateRepository,
      catchUp as CatchUp,
      loadEnv({ SHUTDOWN_TIMEOUT_MS: '1234' }),
      systemClock,
      adapterHost,
    );
  });

  afterEach(async () => {
    await scheduler.beforeApplicationShutdown();
    jest.useRealTimers();
  });

  async function boot(...definitions: JobDefinition[]): Promise<void> {
    for (const job of definitions) jobs.register(job);
    await scheduler.onApplicationBootstrap();
  }

  /** Moves fake time to `iso`, running every timer due on the way and the promise callbacks they start. */
  async function advanceTo(iso: string): Promise<void> {
    await jest.advanceTimersByTimeAsync(Date.parse(iso) - Date.now());
  }

  describe('timers', () => {
    it("registers one timeout per scheduled job under the job's name in @nestjs/schedule's registry", async () => {
      await boot(definition('hourly', HOURLY), definition('on-demand', null));

      expect(registry.getTimeouts()).toEqual(['hourly']);
    });

    it('ticks at each fire time of the schedule, and not before', async () => {
      await boot(definition('hourly', HOURLY));

      await advanceTo('2025-01-01T08:59:59.999Z');
      expect(ticks).toEqual([]);
      await advanceTo('2025-01-01T11:00:00.000Z');

      expect(ticks.map((tick) => [tick.scheduledFor, tick.at])).toEqual([
        ['2025-01-01T09:00:00.000Z', '2025-01-01T09:00:00.000Z'],
        ['2025-01-01T10:00:00.000Z', '2025-01-01T10:00:00.000Z'],
        ['2025-01-01T11:00:00.000Z', '2025-01-01T11:00:00.000Z'],
      ]);
    });

    it("passes the job's options to the runner", async () => {
      const options: JobOptions = { timeoutMs: 5000, retries: 2, overlap: 'queue' };
      await boot(definition('hourly', HOURLY, options));

      await advanceTo('2025-01-01T09:00:00.000Z');

      expect(ticks).toEqual([expect.objectContaining({ job: 'hourly', options })]);
    });

    it('computes fire times with Quartz rules: the next weekday after a Friday is Monday', async () => {
      jest.setSystemTime(new Date('2025-01-03T10:00:00.000Z'));
      await boot(definition('weekdays', '0 30 9 ? * MON-FRI'));

      await advanceTo('2025-01-06T09:30:00.000Z');

      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-06T09:30:00.000Z']);
    });

    it('computes fire times in the schedule’s time zone', async () => {
      await boot(definition('berlin-noon', '0 0 12 * * ?', {}, 'Europe/Berlin'));

      await advanceTo('2025-01-01T11:00:00.000Z');

      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-01T11:00:00.000Z']);
    });

    it("reaches a fire time beyond Node's longest timer through several timers, ticking once", async () => {
      await boot(definition('new-year', '0 0 0 1 1 ?'));

      await jest.advanceTimersByTimeAsync(MAX_TIMER_MS);
      expect(ticks).toEqual([]);
      expect(registry.getTimeouts()).toEqual(['new-year']);
      await advanceTo('2026-01-01T00:00:00.000Z');

      expect(ticks.map((tick) => [tick.scheduledFor, tick.at])).toEqual([
        ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
      ]);
    });

    it('sets no timer when the schedule has no fire time left', async () => {
      await boot(definition('bygone', '0 0 8 1 1 ? 2024'));

      await jest.advanceTimersByTimeAsync(24 * 3_600_000);

      expect(registry.getTimeouts()).toEqual([]);
      expect(ticks).toEqual([]);
    });

    it('counts a late timer for its fire time, and does not make up the fire times it slept through', async () => {
      await boot(definition('hourly', HOURLY));
      // The event loop was held: the 09:00 timer runs at 12:10, after 10:00, 11:00 and 12:00 passed.
      jest.setSystemTime(new Date('2025-01-01T11:30:00.000Z'));

      await jest.advanceTimersByTimeAsync(40 * 60_000);
      await advanceTo('2025-01-01T13:00:00.000Z');

      expect(ticks.map((tick) => [tick.scheduledFor, tick.at])).toEqual([
        ['2025-01-01T09:00:00.000Z', '2025-01-01T12:10:00.000Z'],
        ['2025-01-01T13:00:00.000Z', '2025-01-01T13:00:00.000Z'],
      ]);
    });

    it('waits on when its timer comes early (the clock was set back), ticking once at the fire time', async () => {
      await boot(definition('hourly', HOURLY));
      jest.setSystemTime(new Date('2025-01-01T08:00:00.000Z'));

      await jest.advanceTimersByTimeAsync(40 * 60_000);
      expect(ticks).toEqual([]);
      await advanceTo('2025-01-01T09:00:00.000Z');

      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-01T09:00:00.000Z']);
    });
  });

  describe('pause', () => {
    it("starts no run for a paused job's ticks, but keeps its timer going", async () => {
      paused.set('hourly', true);
      await boot(definition('hourly', HOURLY));

      await advanceTo('2025-01-01T10:00:00.000Z');

      expect(ticks).toEqual([]);
      expect(registry.getTimeouts()).toEqual(['hourly']);
    });

    it('reads the stored state at every tick, so a pause or resume by any replica takes effect', async () => {
      await boot(definition('hourly', HOURLY));

      await advanceTo('2025-01-01T09:00:00.000Z');
      paused.set('hourly', true);
      await advanceTo('2025-01-01T10:00:00.000Z');
      paused.set('hourly', false);
      await advanceTo('2025-01-01T11:00:00.000Z');

      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-01T09:00:00.000Z', '2025-01-01T11:00:00.000Z']);
    });

    it('starts no run when the pause state cannot be read, and ticks again once it can', async () => {
      await boot(definition('hourly', HOURLY));

      pauseStateReadable = false;
      await advanceTo('2025-01-01T09:00:00.000Z');
      pauseStateReadable = true;
      await advanceTo('2025-01-01T10:00:00.000Z');

      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-01T10:00:00.000Z']);
    });
  });

  describe('bootstrap', () => {
    it('catches up every scheduled job with its stored state, and no on-demand job', async () => {
      paused.set('daily', true);
      await boot(definition('hourly', HOURLY), definition('daily', '0 0 7 * * ?'), definition('on-demand', null));

      expect(caughtUp).toEqual([
        { job: 'hourly', state: { name: 'hourly', paused: false, since: T0 } },
        { job: 'daily', state: { name: 'daily', paused: true, since: T0 } },
      ]);
    });
  });

  describe('in an HTTP application', () => {
    beforeEach(() => {
      adapterHost.httpAdapter = {} as AbstractHttpAdapter;
    });

    it('sets no timer and catches nothing up until the server listens', async () => {
      await boot(definition('hourly', HOURLY));
      await advanceTo('2025-01-01T10:00:00.000Z');

      expect(registry.getTimeouts()).toEqual([]);
      expect(caughtUp).toEqual([]);
      expect(ticks).toEqual([]);
    });

    it('sets the timers and catches up once the server listens', async () => {
      await boot(definition('hourly', HOURLY));
      jest.setSystemTime(new Date('2025-01-01T09:30:00.000Z'));

      adapterHost.listening = true;
      await advanceTo('2025-01-01T10:00:00.000Z');

      expect(caughtUp.map((catchUp) => catchUp.job)).toEqual(['hourly']);
      expect(ticks.map((tick) => tick.scheduledFor)).toEqual(['2025-01-01T10:00:00.000Z']);
    });
  });

  describe('shutdown', () => {
    it('removes the timers, then drains the runner within SHUTDOWN_TIMEOUT_MS; no tick follows', async () => {
      await boot(definition('hourly', HOURLY));

      await scheduler.beforeApplicationShutdown();
      await advanceTo('2025-01-01T12:00:00.000Z');

      expect(registry.getTimeouts()).toEqual([]);
      expect(drained).toEqual([1234]);
      expect(ticks).toEqual([]);
    });
  });
});
