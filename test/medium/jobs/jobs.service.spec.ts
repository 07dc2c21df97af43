import { ConflictException, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { filter, firstValueFrom } from 'rxjs';
import { DATABASE } from '../../../src/database/database.js';
import { RunsRepository, type Run } from '../../../src/database/runs.repository.js';
import type { Database, RunStatus } from '../../../src/database/schema.js';
import { Cron, Job, type JobContext } from '../../../src/jobs/index.js';
import { JobsService } from '../../../src/jobs/jobs.service.js';
import { RunsService } from '../../../src/jobs/runs.service.js';
import { JobScheduler } from '../../../src/jobs/scheduling/job-scheduler.js';
import type { JobpulseEvent } from '../../../src/notifier/events.js';
import { NotifierService } from '../../../src/notifier/notifier.service.js';
import { TestClock } from '../../support/clock.js';
import { temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';
import { deferred, type Deferred } from '../../support/deferred.js';
import { makeRun } from '../../support/factories.js';
import { startJobsContext, type JobsContext } from '../../support/jobs-context.js';

const NOW = '2025-01-01T08:20:00.000Z';
const HOURLY = '0 0 * * * ?';

/** Records its runs; a run of `daily` waits for `gate` when the test sets one. */
@Injectable()
class TestJobs {
  readonly contexts: JobContext[] = [];
  gate?: Deferred;

  @Job('hourly')
  @Cron(HOURLY)
  hourly(context: JobContext): Promise<void> {
    this.contexts.push(context);
    return Promise.resolve();
  }

  @Job('daily', { retries: 2 })
  @Cron('0 0 7 * * ?')
  daily(context: JobContext): Promise<void> {
    this.contexts.push(context);
    return this.gate?.promise ?? Promise.resolve();
  }
}

const aRun = (id: string, job: string, status: RunStatus): Run => makeRun({ id, job, status, trigger: 'schedule' });

/** JobsService and RunsService wired as the application wires them, on a real database of the project's dialect. */
describe('JobsService and RunsService', () => {
  let database: TemporaryDatabase;
  let clock: TestClock;
  let replicas: JobsContext[];
  let published: JobpulseEvent[];

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    database = await temporaryDatabase();
    clock = new TestClock(new Date(NOW));
    replicas = [];
    published = [];
  });

  afterEach(async () => {
    for (const replica of replicas) {
      replica.get(TestJobs).gate?.resolve();
      await replica.close();
    }
    await database.remove();
  });

  /** One process of the service on the shared database; the first one's events are recorded in `published`. */
  async function boot(): Promise<JobsContext> {
    const replica = await startJobsContext({ databaseUrl: database.url, clock, jobs: [TestJobs] });
    if (replicas.length === 0) replica.get(NotifierService).events$.subscribe((event) => published.push(event));
    replicas.push(replica);
    return replica;
  }

  const runsOf = (replica: JobsContext, job: string) => replica.get(RunsRepository).listByJob(job, { limit: 100 });

  const eventWhere = (replica: JobsContext, predicate: (event: JobpulseEvent) => boolean) =>
    firstValueFrom(replica.get(NotifierService).events$.pipe(filter(predicate)));

  describe('the catalogue', () => {
    it('lists every job in discovery order, with its schedule, time zone and next fire times', async () => {
      const jobs = (await boot()).get(JobsService);

      const listed = await jobs.list();

      expect(listed.map((job) => job.name)).toEqual(['daily-report', 'cleanup', 'hourly', 'daily']);
      expect(listed[2]).toEqual({
        name: 'hourly',
        cron: HOURLY,
        timeZone: 'UTC',
        nextRunAt: '2025-01-01T09:00:00.000Z',
        nextRunsAt: [
          '2025-01-01T09:00:00.000Z',
          '2025-01-01T10:00:00.000Z',
          '2025-01-01T11:00:00.000Z',
          '2025-01-01T12:00:00.000Z',
          '2025-01-01T13:00:00.000Z',
        ],
        paused: false,
        running: false,
        lastRun: null,
      });
    });

    it('shows a running run, from any replica, and the last run', async () => {
      const replicaA = await boot();
      const replicaB = await boot();
      replicaA.get(TestJobs).gate = deferred();

      const run = await replicaA.get(RunsService).trigger('daily');

      expect(await replicaB.get(JobsService).get('daily')).toMatchObject({ running: true, lastRun: { id: run.id } });
      const succeeded = eventWhere(replicaA, (event) => event.type === 'job.succeeded');
      replicaA.get(TestJobs).gate!.resolve();
      await succeeded;
      expect(await replicaB.get(JobsService).get('daily')).toMatchObject({
        running: false,
        lastRun: { id: run.id, status: 'succeeded' },
      });
    });

    it("lists each job with its own pause state, running run and last run, as each job's own view has them", async () => {
      const replica = await boot();
      const jobs = replica.get(JobsService);
      await jobs.setPaused('hourly', true);
      await replica.get(RunsRepository).insert(aRun('hourly-failed', 'hourly', 'failed'));
      replica.get(TestJobs).gate = deferred();
      const running = await replica.get(RunsService).trigger('daily');

      const listed = await jobs.list();

      expect(listed.map(({ name, paused, running, lastRun }) => [name, paused, running, lastRun?.id ?? null])).toEqual([
        ['daily-report', false, false, null],
        ['cleanup', false, false, null],
        ['hourly', true, false, 'hourly-failed'],
        ['daily', false, true, running.id],
      ]);
      for (const view of listed) expect(await jobs.get(view.name)).toEqual(view);
    });

    it('answers 404 for an unknown job', async () => {
      await expect((await boot()).get(JobsService).get('nope')).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('pause and resume', () => {
    it('publishes job.paused and job.resumed once each, however often it is asked', async () => {
      const jobs = (await boot()).get(JobsService);

      await jobs.setPaused('hourly', true);
      await jobs.setPaused('hourly', true);
      await jobs.setPaused('hourly', false);
      await jobs.setPaused('hourly', false);

      expect(published.map((event) => [event.type, event.topic, event.data])).toEqual([
        ['job.paused', 'jobs', { job: 'hourly', paused: true }],
        ['job.resumed', 'jobs', { job: 'hourly', paused: false }],
      ]);
    });

    it('stores the state with the time it changed, and not again for a repeated request', async () => {
      const replica = await boot();

      await replica.get(JobsService).setPaused('hourly', true);
      clock.advance(60_000);
      await replica.get(JobsService).setPaused('hourly', true);

      const db = replica.get<Kysely<Database>>(DATABASE);
      const [state] = await db.selectFrom('jobs').selectAll().where('name', '=', 'hourly').execute();
      expect(state).toMatchObject({ paused: 1, updated_at: NOW });
    });

    it('shows a paused job with no next run on every replica, and a resumed one with its next fire times', async () => {
      const replicaA = await boot();
      const replicaB = await boot();

      const paused = await replicaA.get(JobsService).setPaused('hourly', true);

      expect(paused).toMatchObject({ name: 'hourly', cron: HOURLY, paused: true, nextRunAt: null, nextRunsAt: [] });
      expect(await replicaB.get(JobsService).get('hourly')).toEqual(paused);
      const resumed = await replicaB.get(JobsService).setPaused('hourly', false);
      expect(resumed).toMatchObject({ paused: false, nextRunAt: '2025-01-01T09:00:00.000Z' });
    });

    it('keeps the job paused for the next process on the same database', async () => {
      const first = await boot();
      await first.get(JobsService).setPaused('hourly', true);
      await first.close();

      const second = await boot();

      expect(await second.get(JobsService).get('hourly')).toMatchObject({ paused: true, nextRunAt: null });
    });

    it('still runs a paused job on a manual trigger', async () => {
      const replica = await boot();
      await replica.get(JobsService).setPaused('hourly', true);

      const run = await replica.get(RunsService).trigger('hourly');

      expect(run).toMatchObject({ trigger: 'manual', status: 'running' });
    });

    it('answers 404 for an unknown job, publishing nothing', async () => {
      await expect((await boot()).get(JobsService).setPaused('nope', true)).rejects.toBeInstanceOf(NotFoundException);
      expect(published).toEqual([]);
    });
  });

  describe('retry', () => {
    it('answers 404 for an unknown run', async () => {
      await expect((await boot()).get(RunsService).retry('no-such-run')).rejects.toBeInstanceOf(NotFoundException);
    });

    it.each(['succeeded', 'running', 'skipped', 'queued'] as const)('answers 409 for a %s run', async (status) => {
      const replica = await boot();
      await replica.get(RunsRepository).insert(aRun('earlier', 'daily', status));

      const retried = replica.get(RunsService).retry('earlier');

      await expect(retried).rejects.toBeInstanceOf(ConflictException);
      await expect(retried).rejects.toThrow(`run "earlier" is ${status}`);
      expect(await runsOf(replica, 'daily')).toHaveLength(1);
      expect(replica.get(TestJobs).contexts).toEqual([]);
    });

    it.each(['failed', 'timed_out', 'interrupted', 'abandoned'] as const)(
      "starts a new run retrying a %s run, with the job's options",
      async (status) => {
        const replica = await boot();
        const earlier = aRun('earlier', 'daily', status);
        await replica.get(RunsRepository).insert(earlier);
        const succeeded = eventWhere(replica, (event) => event.type === 'job.succeeded');

        const run = await replica.get(RunsService).retry('earlier');

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
        expect(await replica.get(RunsRepository).findById('earlier')).toEqual(earlier);
        await succeeded;
        expect(replica.get(TestJobs).contexts.map((context) => [context.runId, context.trigger])).toEqual([
          [run.id, 'retry'],
        ]);
      },
    );

    it('answers 409 naming the running run while the job is busy', async () => {
      const replica = await boot();
      await replica.get(RunsRepository).insert(aRun('earlier', 'daily', 'failed'));
      replica.get(TestJobs).gate = deferred();
      const busy = await replica.get(RunsService).trigger('daily');

      await expect(replica.get(RunsService).retry('earlier')).rejects.toThrow(
        `job "daily" is already running (run ${busy.id})`,
      );
    });

    it('answers 503 once shutting down', async () => {
      const replica = await boot();
      await replica.get(RunsRepository).insert(aRun('earlier', 'daily', 'failed'));
      // The shutdown hook that drains the runner, before the database closes.
      await replica.get(JobScheduler).beforeApplicationShutdown();

      await expect(replica.get(RunsService).retry('earlier')).rejects.toBeInstanceOf(ServiceUnavailableException);
    });
  });
});
