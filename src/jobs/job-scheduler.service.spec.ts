import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { TestClock } from '../../test/support/clock.js';
import { deferred } from '../../test/support/deferred.js';
import { createTestStorage, type TestStorage } from '../../test/support/storage.js';
import { loadEnv } from '../config/env.js';
import type { Run, RunsRepository } from '../database/runs.repository.js';
import type { JobpulseEvent } from '../notifier/events.js';
import type { NotifierService } from '../notifier/notifier.service.js';
import { CronSchedule } from '../schedules/cron-schedule.js';
import type { Job, JobContext } from './job.js';
import { JobRunner } from './job-runner.service.js';
import { JobScheduler } from './job-scheduler.service.js';

/**
 * The cron timers are real: the clock is set in the future, so that every fire
 * time the scheduler arms lies ahead of the real time (the `cron` library
 * refuses a date in the past) and none fires during a test.
 */
const T0 = '2099-01-01T08:20:00.000Z';
const HOURLY = '0 0 * * * ?';

/** A job whose runs the test counts; its ticks go through the scheduler, as `@Scheduled` methods do. */
class FakeJob implements Job {
  readonly contexts: JobContext[] = [];

  constructor(
    readonly name: string,
    private readonly scheduler: JobScheduler,
    private readonly body: () => Promise<unknown> = () => Promise.resolve(),
  ) {}

  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run(context: JobContext): Promise<unknown> {
    this.contexts.push(context);
    return this.body();
  }
}

describe('JobScheduler', () => {
  let runs: RunsRepository;
  let notifier: NotifierService;
  let clock: TestClock;
  let runner: JobRunner;
  let registry: SchedulerRegistry;
  let scheduler: JobScheduler;
  let published: JobpulseEvent[];
  let storage: TestStorage;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date(T0));
    storage = await createTestStorage(clock);
    ({ runs, notifier, published } = storage);
    runner = new JobRunner(runs, notifier, loadEnv({}), clock);
    registry = new SchedulerRegistry();
    scheduler = new JobScheduler(registry, runner, storage.jobStates, clock);
  });

  afterEach(async () => {
    for (const cronJob of registry.getCronJobs().values()) await cronJob.stop();
    await runner.drain(1000);
    runner.onApplicationShutdown();
    await storage.close();
  });

  /** Registers the disabled placeholder timer `@Scheduled` leaves in the registry under the job's name. */
  function register(name: string): CronJob {
    const cronJob = CronJob.from({ cronTime: '0 0 0 1 1 *', onTick: () => {}, start: false });
    registry.addCronJob(name, cronJob);
    return cronJob;
  }

  function armedAt(cronJob: CronJob): string {
    return cronJob.nextDate().toJSDate().toISOString();
  }

  function hourlyJob(name = 'hourly'): { job: FakeJob; cronJob: CronJob } {
    return { job: new FakeJob(name, scheduler), cronJob: register(name) };
  }

  async function runsOf(name: string): Promise<Run[]> {
    return runs.listByJob(name, { limit: 100 });
  }

  describe('start', () => {
    it("arms the job's timer at the schedule's next fire time", () => {
      const { job, cronJob } = hourlyJob();

      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);

      expect(cronJob.isActive).toBe(true);
      expect(armedAt(cronJob)).toBe('2099-01-01T09:00:00.000Z');
    });

    it('computes the fire time with Quartz rules, not those of the timer library', () => {
      const { job, cronJob } = hourlyJob('weekdays');
      // A Friday after 09:30: the next weekday is Monday.
      clock.set('2099-01-02T10:00:00.000Z');

      scheduler.start(job, CronSchedule.parse('0 30 9 ? * MON-FRI'), {}, false);

      expect(armedAt(cronJob)).toBe('2099-01-05T09:30:00.000Z');
    });

    it('computes the fire time in the schedule’s time zone', () => {
      const { job, cronJob } = hourlyJob('berlin');

      scheduler.start(job, CronSchedule.parse('0 0 12 * * ?', 'Europe/Berlin'), {}, false);

      expect(armedAt(cronJob)).toBe('2099-01-01T11:00:00.000Z');
    });

    it('arms the timer of a paused job too', () => {
      const { job, cronJob } = hourlyJob();

      scheduler.start(job, CronSchedule.parse(HOURLY), {}, true);

      expect(cronJob.isActive).toBe(true);
      expect(armedAt(cronJob)).toBe('2099-01-01T09:00:00.000Z');
      expect(scheduler.isPaused('hourly')).toBe(true);
    });

    it('leaves the timer stopped when the schedule has no fire time left', async () => {
      const { job, cronJob } = hourlyJob('bygone');
      cronJob.start();

      scheduler.start(job, CronSchedule.parse('0 0 8 1 1 ? 2098'), {}, false);
      await job.onSchedule();

      expect(cronJob.isActive).toBe(false);
      expect(scheduler.nextRuns('bygone', 3)).toEqual([]);
      expect(await runsOf('bygone')).toEqual([]);
    });
  });

  describe('fire', () => {
    it('starts a schedule run for the armed fire time and re-arms for the next one', async () => {
      const { job, cronJob } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);
      clock.set('2099-01-01T09:00:00.000Z');

      await job.onSchedule();

      expect(await runsOf('hourly')).toEqual([
        expect.objectContaining({
          trigger: 'schedule',
          scheduledFor: '2099-01-01T09:00:00.000Z',
          startedAt: '2099-01-01T09:00:00.000Z',
        }),
      ]);
      expect(armedAt(cronJob)).toBe('2099-01-01T10:00:00.000Z');
      expect(cronJob.isActive).toBe(true);
    });

    it('counts a late tick for the armed fire time, started when it ran', async () => {
      const { job, cronJob } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);
      clock.set('2099-01-01T09:00:02.500Z');

      await job.onSchedule();

      const [run] = await runsOf('hourly');
      expect(run).toMatchObject({
        trigger: 'schedule',
        scheduledFor: '2099-01-01T09:00:00.000Z',
        startedAt: '2099-01-01T09:00:02.500Z',
      });
      expect(job.contexts.map((context) => context.trigger)).toEqual(['schedule']);
      expect(armedAt(cronJob)).toBe('2099-01-01T10:00:00.000Z');
    });

    it('runs once for a gap of many missed fire times, and re-arms after now', async () => {
      const { job, cronJob } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);
      clock.set('2099-01-01T14:37:00.000Z');

      await job.onSchedule();

      expect((await runsOf('hourly')).map((run) => run.scheduledFor)).toEqual(['2099-01-01T09:00:00.000Z']);
      expect(armedAt(cronJob)).toBe('2099-01-01T15:00:00.000Z');

      clock.set('2099-01-01T15:00:00.000Z');
      await job.onSchedule();

      expect((await runsOf('hourly')).map((run) => run.scheduledFor).sort()).toEqual([
        '2099-01-01T09:00:00.000Z',
        '2099-01-01T15:00:00.000Z',
      ]);
      expect(armedAt(cronJob)).toBe('2099-01-01T16:00:00.000Z');
    });

    it('re-arms after the armed fire time when the tick comes early, not for the same fire time again', async () => {
      const { job, cronJob } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);
      clock.set('2099-01-01T08:59:59.990Z');

      await job.onSchedule();

      expect((await runsOf('hourly')).map((run) => run.scheduledFor)).toEqual(['2099-01-01T09:00:00.000Z']);
      expect(armedAt(cronJob)).toBe('2099-01-01T10:00:00.000Z');
    });

    it("passes the job's options to the runner", async () => {
      const release = deferred();
      const job = new FakeJob('hourly', scheduler, () => release.promise);
      const cronJob = register('hourly');
      scheduler.start(job, CronSchedule.parse(HOURLY), { overlap: 'queue' }, false);
      clock.set('2099-01-01T09:00:00.000Z');
      await job.onSchedule();
      clock.set('2099-01-01T10:00:00.000Z');

      await job.onSchedule();

      const statuses = (await runsOf('hourly')).map((run) => [run.scheduledFor, run.status]).sort();
      expect(statuses).toEqual([
        ['2099-01-01T09:00:00.000Z', 'running'],
        ['2099-01-01T10:00:00.000Z', 'queued'],
      ]);
      expect(armedAt(cronJob)).toBe('2099-01-01T11:00:00.000Z');
      release.resolve();
    });

    it('starts no run and leaves no row for a paused job, but re-arms its timer', async () => {
      const { job, cronJob } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, true);
      clock.set('2099-01-01T09:00:00.000Z');

      await job.onSchedule();

      expect(await runsOf('hourly')).toEqual([]);
      expect(job.contexts).toEqual([]);
      expect(published).toEqual([]);
      expect(cronJob.isActive).toBe(true);
      expect(armedAt(cronJob)).toBe('2099-01-01T10:00:00.000Z');
    });

    it('follows setPaused: ticks are ignored while paused and run again once resumed', async () => {
      const { job } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);

      scheduler.setPaused('hourly', true);
      expect(scheduler.isPaused('hourly')).toBe(true);
      clock.set('2099-01-01T09:00:00.000Z');
      await job.onSchedule();
      expect(await runsOf('hourly')).toEqual([]);

      scheduler.setPaused('hourly', false);
      expect(scheduler.isPaused('hourly')).toBe(false);
      clock.set('2099-01-01T10:00:00.000Z');
      await job.onSchedule();
      expect((await runsOf('hourly')).map((run) => run.scheduledFor)).toEqual(['2099-01-01T10:00:00.000Z']);
    });

    it('does nothing for a job it never started', async () => {
      const { job } = hourlyJob();

      await job.onSchedule();

      expect(await runsOf('hourly')).toEqual([]);
      expect(scheduler.isPaused('hourly')).toBe(false);
    });
  });

  describe('nextRuns', () => {
    it('lists the next fire times after now', () => {
      const { job } = hourlyJob();
      scheduler.start(job, CronSchedule.parse(HOURLY), {}, false);

      expect(scheduler.nextRuns('hourly', 3).map((instant) => instant.toISOString())).toEqual([
        '2099-01-01T09:00:00.000Z',
        '2099-01-01T10:00:00.000Z',
        '2099-01-01T11:00:00.000Z',
      ]);

      clock.set('2099-01-01T10:30:00.000Z');
      expect(scheduler.nextRuns('hourly', 2).map((instant) => instant.toISOString())).toEqual([
        '2099-01-01T11:00:00.000Z',
        '2099-01-01T12:00:00.000Z',
      ]);
    });

    it('lists nothing for an unknown job', () => {
      expect(scheduler.nextRuns('unknown', 3)).toEqual([]);
    });
  });

  describe('stop', () => {
    it('stops every timer, after which a tick starts no run', async () => {
      const hourly = hourlyJob('hourly');
      const daily = hourlyJob('daily');
      scheduler.start(hourly.job, CronSchedule.parse(HOURLY), {}, false);
      scheduler.start(daily.job, CronSchedule.parse('0 0 7 * * ?'), {}, false);

      await scheduler.stop();

      expect(hourly.cronJob.isActive).toBe(false);
      expect(daily.cronJob.isActive).toBe(false);
      clock.set('2099-01-02T07:00:00.000Z');
      await hourly.job.onSchedule();
      await daily.job.onSchedule();
      expect(await runsOf('hourly')).toEqual([]);
      expect(await runsOf('daily')).toEqual([]);
      expect(hourly.cronJob.isActive).toBe(false);
    });
  });
});
