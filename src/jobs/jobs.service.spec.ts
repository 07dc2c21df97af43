import { leaseOf } from '../../test/support/database.js';
import { jest } from '@jest/globals';
import { ConflictException, Logger, NotFoundException, ServiceUnavailableException, type Type } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { Kysely } from 'kysely';
import { filter, firstValueFrom } from 'rxjs';
import { TestClock } from '../../test/support/clock.js';
import { deferred, type Deferred } from '../../test/support/deferred.js';
import { createTestStorage, type TestStorage } from '../../test/support/storage.js';
import { loadEnv } from '../config/env.js';
import type { JobStateRepository } from '../database/job-state.repository.js';
import type { Run, RunsRepository } from '../database/runs.repository.js';
import type { Database, RunStatus } from '../database/schema.js';
import type { JobpulseEvent } from '../notifier/events.js';
import type { NotifierService } from '../notifier/notifier.service.js';
import type { Job, JobContext } from './job.js';
import { JobRunner } from './job-runner.service.js';
import { JobScheduler } from './job-scheduler.service.js';
import { JobsService } from './jobs.service.js';
import { Scheduled } from './scheduled.decorator.js';

/**
 * The cron timers are real: the clock is set in the future, so that every fire
 * time the scheduler arms lies ahead of the real time (the `cron` library
 * refuses a date in the past) and none fires during a test.
 */
const FIRST_BOOT = '2099-01-01T05:30:00.000Z';
const NOW = '2099-01-01T08:20:00.000Z';
const HOURLY = '0 0 * * * ?';

/** Lets every queued promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records its runs; a run waits for `gate` when the test sets one. */
abstract class FakeJob implements Job {
  abstract readonly name: string;
  readonly contexts: JobContext[] = [];
  gate?: Deferred;

  constructor(protected readonly scheduler: JobScheduler) {}

  abstract onSchedule(): Promise<void>;

  run(context: JobContext): Promise<void> {
    this.contexts.push(context);
    return this.gate?.promise ?? Promise.resolve();
  }
}

class HourlyJob extends FakeJob {
  readonly name = 'hourly';

  @Scheduled('hourly', HOURLY)
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

/** Daily at 07:00, with two retries. */
class DailyJob extends FakeJob {
  readonly name = 'daily';

  @Scheduled('daily', '0 0 7 * * ?', { retries: 2 })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

/** Hourly, but a fire time missed while the service was down is not made up. */
class CarefreeJob extends FakeJob {
  readonly name = 'carefree';

  @Scheduled('carefree', HOURLY, { misfire: 'ignore' })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

/** Mondays at 07:00. */
class WeeklyJob extends FakeJob {
  readonly name = 'weekly';

  @Scheduled('weekly', '0 0 7 ? * MON')
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

/** Hourly; a request while it runs waits in the queue. */
class QueueingJob extends FakeJob {
  readonly name = 'queueing';

  @Scheduled('queueing', HOURLY, { overlap: 'queue' })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

class BrokenJob extends FakeJob {
  readonly name = 'broken';

  @Scheduled('broken', 'every hour')
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }
}

/** One process of the service: its own runner, timers and jobs, on the shared database. */
interface Instance {
  service: JobsService;
  runner: JobRunner;
  scheduler: JobScheduler;
  registry: SchedulerRegistry;
  jobs: Map<string, FakeJob>;
  stopped: boolean;
}

interface InstanceOptions {
  jobs?: Type<FakeJob>[];
  env?: Record<string, string>;
}

describe('JobsService', () => {
  let db: Kysely<Database>;
  let runs: RunsRepository;
  let jobStates: JobStateRepository;
  let notifier: NotifierService;
  let clock: TestClock;
  let instances: Instance[];
  let published: JobpulseEvent[];
  let storage: TestStorage;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date(NOW));
    storage = await createTestStorage(clock);
    ({ db, runs, jobStates, notifier, published } = storage);
    instances = [];
  });

  afterEach(async () => {
    for (const instance of instances) await shutdown(instance);
    await storage.close();
  });

  function create({ jobs: types = [HourlyJob], env: vars = {} }: InstanceOptions = {}): Instance {
    const env = loadEnv(vars);
    const registry = new SchedulerRegistry();
    const runner = new JobRunner(runs, notifier, env, clock);
    const scheduler = new JobScheduler(registry, runner, jobStates, clock);
    const jobs = types.map((type) => new type(scheduler));
    for (const job of jobs) {
      registry.addCronJob(job.name, CronJob.from({ cronTime: '0 0 0 1 1 *', onTick: () => {}, start: false }));
    }
    const service = new JobsService(jobs, runner, scheduler, runs, jobStates, notifier, env, clock);
    const instance: Instance = {
      service,
      runner,
      scheduler,
      registry,
      jobs: new Map(jobs.map((job) => [job.name, job])),
      stopped: false,
    };
    instances.push(instance);
    return instance;
  }

  async function boot(options?: InstanceOptions): Promise<Instance> {
    const instance = create(options);
    await instance.service.onApplicationBootstrap();
    return instance;
  }

  async function shutdown(instance: Instance): Promise<void> {
    if (instance.stopped) return;
    instance.stopped = true;
    for (const job of instance.jobs.values()) job.gate?.resolve();
    await instance.service.beforeApplicationShutdown();
    instance.runner.onApplicationShutdown();
    for (const cronJob of instance.registry.getCronJobs().values()) await cronJob.stop();
  }

  /** A previous process that knew the jobs from FIRST_BOOT on and stopped then; the clock is back at NOW. */
  async function previouslyRunSince(since = FIRST_BOOT, options?: InstanceOptions): Promise<void> {
    clock.set(since);
    await shutdown(await boot(options));
    clock.set(NOW);
  }

  function eventWhere(predicate: (event: JobpulseEvent) => boolean): Promise<JobpulseEvent> {
    const seen = published.find(predicate);
    return seen ? Promise.resolve(seen) : firstValueFrom(notifier.events$.pipe(filter(predicate)));
  }

  function runsOf(job: string): Promise<Run[]> {
    return runs.listByJob(job, { limit: 100 });
  }

  function aRun(id: string, job: string, status: RunStatus, fields: Partial<Run> = {}): Run {
    const ended = status !== 'running' && status !== 'queued';
    return {
      id,
      job,
      trigger: 'schedule',
      status,
      scheduledFor: '2099-01-01T08:00:00.000Z',
      startedAt: '2099-01-01T08:00:00.000Z',
      finishedAt: ended ? '2099-01-01T08:00:01.000Z' : null,
      durationMs: ended ? 1000 : null,
      error: ended && status !== 'succeeded' ? 'it went wrong' : null,
      attempt: 1,
      maxAttempts: 1,
      retryOf: null,
      node: null,
      ...fields,
    };
  }

  describe('catch-up at bootstrap', () => {
    it('runs the most recent fire time missed while the service was down, once, as catch-up', async () => {
      await previouslyRunSince(FIRST_BOOT);

      const { jobs } = await boot();

      const missed = await runsOf('hourly');
      // 06:00, 07:00 and 08:00 passed while it was down: only 08:00 is made up.
      expect(missed).toEqual([
        expect.objectContaining({
          trigger: 'catch-up',
          scheduledFor: '2099-01-01T08:00:00.000Z',
          startedAt: NOW,
          attempt: 1,
          retryOf: null,
        }),
      ]);
      await eventWhere((event) => event.type === 'job.succeeded');
      expect(jobs.get('hourly')!.contexts.map((context) => [context.runId, context.trigger])).toEqual([
        [missed[0].id, 'catch-up'],
      ]);
    });

    it("runs the catch-up with the job's options", async () => {
      await previouslyRunSince(FIRST_BOOT, { jobs: [DailyJob] });
      clock.set('2099-01-01T07:30:00.000Z');

      await boot({ jobs: [DailyJob] });

      expect(await runsOf('daily')).toEqual([
        expect.objectContaining({ trigger: 'catch-up', scheduledFor: '2099-01-01T07:00:00.000Z', maxAttempts: 3 }),
      ]);
    });

    it('catches up each job for its own missed fire time', async () => {
      await previouslyRunSince(FIRST_BOOT, { jobs: [HourlyJob, DailyJob] });

      await boot({ jobs: [HourlyJob, DailyJob] });

      expect((await runsOf('hourly')).map((run) => run.scheduledFor)).toEqual(['2099-01-01T08:00:00.000Z']);
      expect((await runsOf('daily')).map((run) => run.scheduledFor)).toEqual(['2099-01-01T07:00:00.000Z']);
    });

    it.each([
      ['1h', []],
      ['7199999', []],
      ['2h', ['catch-up']],
      ['3h', ['catch-up']],
    ])(
      'with MISFIRE_THRESHOLD=%s, a fire time missed by 2 hours gets the runs %j',
      async (threshold, triggers: string[]) => {
        await previouslyRunSince(FIRST_BOOT, { jobs: [DailyJob] });
        clock.set('2099-01-01T09:00:00.000Z');

        await boot({ jobs: [DailyJob], env: { MISFIRE_THRESHOLD: threshold } });

        expect((await runsOf('daily')).map((run) => run.trigger)).toEqual(triggers);
      },
    );

    it.each([
      ['2099-01-06T06:59:00.000Z', ['2099-01-05T07:00:00.000Z']],
      ['2099-01-06T07:01:00.000Z', []],
    ])(
      'with the default threshold of 24 hours, a restart at %s catches up the fire times %j',
      async (restartAt, caughtUp: string[]) => {
        // Monday 5 January 07:00 passes while the service is down.
        await previouslyRunSince('2099-01-05T06:00:00.000Z', { jobs: [WeeklyJob] });
        clock.set(restartAt);

        await boot({ jobs: [WeeklyJob] });

        expect((await runsOf('weekly')).map((run) => run.scheduledFor)).toEqual(caughtUp);
      },
    );

    it('does not catch up a fire time that already has a schedule run', async () => {
      await previouslyRunSince(FIRST_BOOT);
      await runs.insert(aRun('ticked', 'hourly', 'succeeded'));

      await boot();

      expect((await runsOf('hourly')).map((run) => run.id)).toEqual(['ticked']);
    });

    it.each(['skipped', 'failed', 'running'] as const)(
      'does not catch up a fire time whose schedule run was %s',
      async (status) => {
        await previouslyRunSince(FIRST_BOOT);
        await runs.insert(aRun('ticked', 'hourly', status), {
          leaseUntil: status === 'running' ? '2099-01-01T09:00:00.000Z' : null,
        });

        await boot();

        expect((await runsOf('hourly')).map((run) => run.id)).toEqual(['ticked']);
      },
    );

    it('does not catch up a fire time twice: a second restart finds the catch-up run', async () => {
      await previouslyRunSince(FIRST_BOOT);
      await shutdown(await boot());
      clock.set('2099-01-01T08:40:00.000Z');

      await boot();

      expect((await runsOf('hourly')).map((run) => [run.trigger, run.scheduledFor])).toEqual([
        ['catch-up', '2099-01-01T08:00:00.000Z'],
      ]);
    });

    it('is not prevented by a manual run that happens to have the fire time as its scheduledFor', async () => {
      await previouslyRunSince(FIRST_BOOT);
      await runs.insert(aRun('by-hand', 'hourly', 'succeeded', { trigger: 'manual' }));

      await boot();

      expect((await runsOf('hourly')).map((run) => run.trigger).sort()).toEqual(['catch-up', 'manual']);
    });

    it('does not catch up a paused job', async () => {
      clock.set(FIRST_BOOT);
      const first = await boot();
      await first.service.setPaused('hourly', true);
      await shutdown(first);
      clock.set(NOW);

      const { scheduler } = await boot();

      expect(await runsOf('hourly')).toEqual([]);
      expect(scheduler.isPaused('hourly')).toBe(true);
    });

    it('does not catch up a fire time that passed before the job was last resumed', async () => {
      clock.set(FIRST_BOOT);
      const first = await boot();
      await first.service.setPaused('hourly', true);
      // Paused over 06:00, 07:00 and 08:00, resumed at 08:10, stopped at 08:15.
      clock.set('2099-01-01T08:10:00.000Z');
      await first.service.setPaused('hourly', false);
      clock.set('2099-01-01T08:15:00.000Z');
      await shutdown(first);
      clock.set(NOW);

      await boot();

      expect(await runsOf('hourly')).toEqual([]);
    });

    it("does not catch up a job declared with misfire 'ignore'", async () => {
      await previouslyRunSince(FIRST_BOOT, { jobs: [CarefreeJob, HourlyJob] });

      await boot({ jobs: [CarefreeJob, HourlyJob] });

      expect(await runsOf('carefree')).toEqual([]);
      expect(await runsOf('hourly')).toHaveLength(1);
    });

    it('does not catch up on the very first start, when the job is first seen now', async () => {
      await boot();

      expect(await runsOf('hourly')).toEqual([]);
      const [state] = await db.selectFrom('jobs').selectAll().execute();
      expect(state).toEqual({ name: 'hourly', paused: 0, first_seen_at: NOW, updated_at: NOW });
    });

    it('does not catch up a job added to a database that knew other jobs', async () => {
      await previouslyRunSince(FIRST_BOOT, { jobs: [DailyJob] });

      await boot({ jobs: [DailyJob, HourlyJob] });

      expect(await runsOf('hourly')).toEqual([]);
      expect(await runsOf('daily')).toHaveLength(1);
    });

    // BUG: JobsService.catchUp() looks for the last fire time strictly before now
    // (CronSchedule.previousBefore) while JobScheduler.start() arms the timer for the first one
    // strictly after now (CronSchedule.nextAfter): a fire time equal to the start-up instant is
    // neither caught up nor armed, so that tick is lost.
    it('does not lose a fire time that falls exactly on the start-up instant', async () => {
      await previouslyRunSince('2099-01-01T07:30:00.000Z');
      clock.set('2099-01-01T08:00:00.000Z');

      const { registry } = await boot();

      const armedAt = registry.getCronJob('hourly').nextDate().toJSDate().toISOString();
      const ranFor = (await runsOf('hourly')).map((run) => run.scheduledFor);
      // Either a run for 08:00 or the timer armed for it.
      expect([...ranFor, armedAt]).toContain('2099-01-01T08:00:00.000Z');
    });
  });

  describe('setPaused', () => {
    it('publishes job.paused and job.resumed once each, however often it is asked', async () => {
      const { service } = await boot();

      await service.setPaused('hourly', true);
      await service.setPaused('hourly', true);
      await service.setPaused('hourly', false);
      await service.setPaused('hourly', false);

      expect(published.map((event) => [event.type, event.topic, event.data])).toEqual([
        ['job.paused', 'jobs', { job: 'hourly', paused: true }],
        ['job.resumed', 'jobs', { job: 'hourly', paused: false }],
      ]);
    });

    it('stores the state with the time it changed, and not again for a repeated request', async () => {
      const { service } = await boot();

      await service.setPaused('hourly', true);
      clock.advance(60_000);
      await service.setPaused('hourly', true);

      const [state] = await db.selectFrom('jobs').selectAll().where('name', '=', 'hourly').execute();
      expect(state).toMatchObject({ paused: 1, updated_at: NOW });
    });

    it('pauses and resumes the job on every replica sharing the database, announced once', async () => {
      const replicaA = await boot();
      const replicaB = await boot();

      await replicaA.service.setPaused('hourly', true);
      await replicaB.jobs.get('hourly')!.onSchedule();

      expect(await runsOf('hourly')).toEqual([]);
      expect(await replicaB.service.get('hourly')).toMatchObject({ paused: true, nextRunAt: null });
      await replicaB.service.setPaused('hourly', true);
      expect(published.filter((event) => event.type === 'job.paused')).toHaveLength(1);

      await replicaB.service.setPaused('hourly', false);
      await replicaA.jobs.get('hourly')!.onSchedule();

      expect(await runsOf('hourly')).toHaveLength(1);
      expect(await replicaA.service.get('hourly')).toMatchObject({ paused: false });
    });

    it('keeps the job paused for a new JobsService on the same database', async () => {
      const first = await boot();
      await first.service.setPaused('hourly', true);
      await shutdown(first);
      clock.advance(60_000);

      const second = await boot();

      expect(second.scheduler.isPaused('hourly')).toBe(true);
      expect(await second.service.get('hourly')).toMatchObject({ paused: true, nextRunAt: null });
    });

    it('keeps the job resumed for a new JobsService once resumed', async () => {
      const first = await boot();
      await first.service.setPaused('hourly', true);
      await first.service.setPaused('hourly', false);
      await shutdown(first);

      const second = await boot();

      expect(second.scheduler.isPaused('hourly')).toBe(false);
      expect((await second.service.get('hourly')).paused).toBe(false);
    });

    it('shows a paused job as paused with no next run, and a resumed one with its next fire times', async () => {
      const { service } = await boot();

      const paused = await service.setPaused('hourly', true);

      expect(paused).toMatchObject({ name: 'hourly', cron: HOURLY, paused: true, nextRunAt: null, nextRunsAt: [] });
      expect(await service.list()).toEqual([paused]);

      const resumed = await service.setPaused('hourly', false);

      expect(resumed).toMatchObject({
        paused: false,
        nextRunAt: '2099-01-01T09:00:00.000Z',
        nextRunsAt: [
          '2099-01-01T09:00:00.000Z',
          '2099-01-01T10:00:00.000Z',
          '2099-01-01T11:00:00.000Z',
          '2099-01-01T12:00:00.000Z',
          '2099-01-01T13:00:00.000Z',
        ],
      });
    });

    it("stops the job's ticks from starting runs while a manual trigger still runs it", async () => {
      const { service, jobs } = await boot();
      await service.setPaused('hourly', true);
      clock.set('2099-01-01T09:00:00.000Z');

      await jobs.get('hourly')!.onSchedule();
      expect(await runsOf('hourly')).toEqual([]);

      const run = await service.trigger('hourly');
      expect(run).toMatchObject({ trigger: 'manual', status: 'running' });
    });

    it('answers 404 for an unknown job', async () => {
      const { service } = await boot();

      await expect(service.setPaused('nope', true)).rejects.toBeInstanceOf(NotFoundException);
      expect(published).toEqual([]);
    });
  });

  describe('retry', () => {
    it('answers 404 for an unknown run', async () => {
      const { service } = await boot();

      await expect(service.retry('no-such-run')).rejects.toBeInstanceOf(NotFoundException);
    });

    it.each(['succeeded', 'running', 'skipped', 'queued'] as const)('answers 409 for a %s run', async (status) => {
      const { service, jobs } = await boot({ jobs: [DailyJob] });
      await runs.insert(aRun('earlier', 'daily', status));

      const retried = service.retry('earlier');

      await expect(retried).rejects.toBeInstanceOf(ConflictException);
      await expect(retried).rejects.toThrow(`run "earlier" is ${status}`);
      expect(await runsOf('daily')).toHaveLength(1);
      expect(jobs.get('daily')!.contexts).toEqual([]);
    });

    it.each(['failed', 'timed_out', 'interrupted', 'abandoned'] as const)(
      'starts a new run retrying a %s run',
      async (status) => {
        const { service, jobs } = await boot({ jobs: [DailyJob] });
        const earlier = aRun('earlier', 'daily', status);
        await runs.insert(earlier);

        const run = await service.retry('earlier');

        expect(run).toEqual({
          id: expect.any(String),
          job: 'daily',
          trigger: 'retry',
          status: 'running',
          scheduledFor: NOW,
          startedAt: NOW,
          finishedAt: null,
          durationMs: null,
          error: null,
          attempt: 1,
          maxAttempts: 3,
          retryOf: 'earlier',
          node: expect.any(String),
        });
        expect(run.id).not.toBe('earlier');
        expect(await runs.findById('earlier')).toEqual(earlier);
        await eventWhere((event) => event.type === 'job.succeeded');
        expect(jobs.get('daily')!.contexts.map((context) => [context.runId, context.trigger])).toEqual([
          [run.id, 'retry'],
        ]);
      },
    );

    it('answers 409 naming the running run while the job is busy', async () => {
      const { service, jobs } = await boot({ jobs: [DailyJob] });
      await runs.insert(aRun('earlier', 'daily', 'failed'));
      jobs.get('daily')!.gate = deferred();
      const busy = await service.trigger('daily');

      await expect(service.retry('earlier')).rejects.toThrow(`job "daily" is already running (run ${busy.id})`);
    });

    it('answers 503 once shutting down', async () => {
      const instance = await boot({ jobs: [DailyJob] });
      await runs.insert(aRun('earlier', 'daily', 'failed'));
      await shutdown(instance);

      await expect(instance.service.retry('earlier')).rejects.toBeInstanceOf(ServiceUnavailableException);
    });
  });

  describe('abandoned runs', () => {
    it('marks the running runs of a process that died abandoned at bootstrap, with job.abandoned', async () => {
      await runs.insert(aRun('dead', 'hourly', 'running'), { leaseUntil: '2099-01-01T08:19:59.999Z' });

      await boot();

      const abandoned: Run = {
        ...aRun('dead', 'hourly', 'running'),
        status: 'abandoned',
        finishedAt: NOW,
        error: 'lease expired: the process running it stopped',
      };
      expect(await runs.findById('dead')).toEqual(abandoned);
      expect(await leaseOf(db, 'dead')).toBeNull();
      const { id: runId, ...rest } = abandoned;
      expect(published.filter((event) => event.type === 'job.abandoned').map((event) => event.data)).toEqual([
        { runId, ...rest },
      ]);
    });

    it('marks the queued runs of a process that died abandoned too', async () => {
      await runs.insert(aRun('dead-queued', 'hourly', 'queued'), { leaseUntil: '2099-01-01T08:19:59.999Z' });

      await boot();

      expect(await runs.findById('dead-queued')).toMatchObject({
        status: 'abandoned',
        finishedAt: NOW,
        error: 'lease expired: the process running it stopped',
      });
      expect(published.filter((event) => event.type === 'job.abandoned').map((event) => event.data)).toEqual([
        expect.objectContaining({ runId: 'dead-queued', status: 'abandoned' }),
      ]);
    });

    it('leaves the running runs of a live process (lease not expired) alone', async () => {
      await runs.insert(aRun('elsewhere', 'hourly', 'running'), { leaseUntil: NOW });

      await boot();

      expect((await runs.findById('elsewhere'))?.status).toBe('running');
      expect(await leaseOf(db, 'elsewhere')).toBe(NOW);
      expect(published.filter((event) => event.type === 'job.abandoned')).toEqual([]);
    });

    it('leaves ended runs alone', async () => {
      await runs.insert(aRun('done', 'hourly', 'succeeded'));

      await boot();

      expect(await runs.findById('done')).toEqual(aRun('done', 'hourly', 'succeeded'));
    });

    it('does not touch the runs of this process, running or queued, even with an expired lease', async () => {
      const instance = create({ jobs: [QueueingJob] });
      instance.jobs.get('queueing')!.gate = deferred();
      const ours = await instance.service.trigger('queueing');
      const ourQueued = await instance.service.trigger('queueing');
      await runs.insert(aRun('dead', 'hourly', 'running'), { leaseUntil: '2099-01-01T08:00:00.000Z' });
      // Past our leases (NOW + 15 s), as after a long pause of the event loop.
      clock.advance(60_000);

      await instance.service.onApplicationBootstrap();

      expect(instance.runner.activeRunIds().sort()).toEqual([ours.id, ourQueued.id].sort());
      expect((await runs.findById(ours.id))?.status).toBe('running');
      expect((await runs.findById(ourQueued.id))?.status).toBe('queued');
      expect((await runs.findById('dead'))?.status).toBe('abandoned');
      expect(published.filter((event) => event.type === 'job.abandoned').map((event) => event.data)).toEqual([
        expect.objectContaining({ runId: 'dead' }),
      ]);
    });
  });

  describe('the abandoned-run sweep', () => {
    afterEach(() => jest.useRealTimers());

    it('runs again every RUN_LEASE_MS after bootstrap', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      await boot({ env: { RUN_LEASE_MS: '2000' } });
      await runs.insert(aRun('dies-later', 'hourly', 'running'), { leaseUntil: '2099-01-01T08:20:01.000Z' });
      clock.advance(2000);

      await jest.advanceTimersByTimeAsync(2000);
      for (let i = 0; i < 10 && (await runs.findById('dies-later'))?.status === 'running'; i++) await flush();

      expect(await runs.findById('dies-later')).toMatchObject({
        status: 'abandoned',
        finishedAt: '2099-01-01T08:20:02.000Z',
      });
    });

    it('stops at shutdown', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      const instance = await boot({ env: { RUN_LEASE_MS: '2000' } });
      await shutdown(instance);
      await runs.insert(aRun('dies-later', 'hourly', 'running'), { leaseUntil: '2099-01-01T08:20:01.000Z' });
      clock.advance(2000);

      await jest.advanceTimersByTimeAsync(10_000);
      await flush();

      expect((await runs.findById('dies-later'))?.status).toBe('running');
    });
  });

  describe('bootstrap', () => {
    it('arms every job at its next fire time', async () => {
      const { registry } = await boot({ jobs: [HourlyJob, DailyJob] });

      expect(registry.getCronJob('hourly').nextDate().toJSDate().toISOString()).toBe('2099-01-01T09:00:00.000Z');
      expect(registry.getCronJob('daily').nextDate().toJSDate().toISOString()).toBe('2099-01-02T07:00:00.000Z');
    });

    it('stops start-up on an invalid schedule, naming the job, before any timer starts', async () => {
      const instance = create({ jobs: [HourlyJob, BrokenJob] });

      await expect(instance.service.onApplicationBootstrap()).rejects.toThrow('job "broken" has an invalid schedule');
      expect(instance.registry.getCronJob('hourly').isActive).toBe(false);
      expect(await db.selectFrom('jobs').selectAll().execute()).toEqual([]);
    });
  });
});
