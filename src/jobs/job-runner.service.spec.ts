import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { filter, firstValueFrom, type Subscription } from 'rxjs';
import { TestClock } from '../../test/support/clock.js';
import { deferred, type Deferred } from '../../test/support/deferred.js';
import { EventsRepository } from '../database/events.repository.js';
import { RunsRepository, type Run } from '../database/runs.repository.js';
import type { Database } from '../database/schema.js';
import { createTestDatabase } from '../../test/support/database.js';
import type { JobpulseEvent } from '../notifier/events.js';
import { NotifierService } from '../notifier/notifier.service.js';
import type { JobContext, RunnableJob } from './job.js';
import { JobRunner, RunnerClosedError } from './job-runner.service.js';

/** Lets every queued promise callback run (the runner frees a job's slot a few callbacks after its last event). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A job whose runs are controlled by the test: each run calls `body` and is recorded with its context. */
class FakeJob implements RunnableJob {
  readonly contexts: JobContext[] = [];
  /** Resolved with the context when a run has entered `run`. */
  entered = deferred<JobContext>();

  constructor(
    readonly name: string,
    private readonly body: (context: JobContext) => Promise<unknown> = () => Promise.resolve(),
  ) {}

  run(context: JobContext): Promise<unknown> {
    this.contexts.push(context);
    this.entered.resolve(context);
    return this.body(context);
  }
}

/** A job that runs until the test releases (or fails) it. */
function controlledJob(name = 'sync'): { job: FakeJob; release: Deferred } {
  const release = deferred();
  return { job: new FakeJob(name, () => release.promise), release };
}

const T0 = '2025-01-01T08:00:00.000Z';

describe('JobRunner', () => {
  let db: Kysely<Database>;
  let dbDestroyed: boolean;
  let runs: RunsRepository;
  let events: EventsRepository;
  let notifier: NotifierService;
  let clock: TestClock;
  let runner: JobRunner;
  let published: JobpulseEvent[];
  let subscription: Subscription;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await createTestDatabase();
    dbDestroyed = false;
    runs = new RunsRepository(db);
    events = new EventsRepository(db);
    clock = new TestClock(new Date(T0));
    notifier = new NotifierService(events, clock);
    runner = new JobRunner(runs, notifier, clock);
    published = [];
    subscription = notifier.events$.subscribe((event) => published.push(event));
  });

  afterEach(async () => {
    subscription.unsubscribe();
    if (!dbDestroyed) await db.destroy();
  });

  async function destroyDatabase(): Promise<void> {
    dbDestroyed = true;
    await db.destroy();
  }

  /** The first event (published already or later) that matches. */
  function eventWhere(predicate: (event: JobpulseEvent) => boolean): Promise<JobpulseEvent> {
    const seen = published.find(predicate);
    return seen ? Promise.resolve(seen) : firstValueFrom(notifier.events$.pipe(filter(predicate)));
  }

  /** Waits for the run's job.succeeded or job.failed, and for the runner to free the job's slot. */
  async function finished(runId: string): Promise<JobpulseEvent> {
    const event = await eventWhere(
      (candidate) =>
        (candidate.type === 'job.succeeded' || candidate.type === 'job.failed') && candidate.data.runId === runId,
    );
    await flush();
    return event;
  }

  function eventsOf(runId: string): JobpulseEvent[] {
    return published.filter((event) => event.data.runId === runId);
  }

  async function record(runId: string): Promise<Run | undefined> {
    return runs.findById(runId);
  }

  describe('a succeeding job', () => {
    it('is recorded as running, then as succeeded with its end and duration', async () => {
      const { job, release } = controlledJob();

      const start = await runner.start(job, 'manual');

      expect(start.accepted).toBe(true);
      const runId = start.run.id;
      expect(start.run).toEqual({
        id: runId,
        job: 'sync',
        trigger: 'manual',
        status: 'running',
        scheduledFor: T0,
        startedAt: T0,
        finishedAt: null,
        durationMs: null,
        error: null,
      });
      expect(await record(runId)).toEqual(start.run);

      await job.entered.promise;
      expect((await record(runId))?.status).toBe('running');
      clock.advance(1500);
      release.resolve();
      await finished(runId);

      expect(await record(runId)).toEqual({
        ...start.run,
        status: 'succeeded',
        finishedAt: '2025-01-01T08:00:01.500Z',
        durationMs: 1500,
        error: null,
      });
    });

    it('publishes job.started and then job.succeeded with the same runId', async () => {
      const { job, release } = controlledJob();

      const start = await runner.start(job, 'manual');
      const runId = start.run.id;
      await eventWhere((event) => event.type === 'job.started');
      clock.advance(250);
      release.resolve();
      await finished(runId);

      expect(published.map((event) => [event.type, event.topic, event.data.runId])).toEqual([
        ['job.started', 'jobs', runId],
        ['job.succeeded', 'jobs', runId],
      ]);
      expect(published[0].data).toMatchObject({
        runId,
        job: 'sync',
        trigger: 'manual',
        status: 'running',
        finishedAt: null,
      });
      expect(published[1].data).toMatchObject({
        runId,
        job: 'sync',
        status: 'succeeded',
        finishedAt: '2025-01-01T08:00:00.250Z',
        durationMs: 250,
        error: null,
      });
      expect(published[1].id).toBeGreaterThan(published[0].id);
    });

    it('publishes job.started before the job begins', async () => {
      let typesWhenEntered: string[] = [];
      const job = new FakeJob('sync', () => {
        typesWhenEntered = published.map((event) => event.type);
        return Promise.resolve();
      });

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      expect(typesWhenEntered).toEqual(['job.started']);
    });

    it('holds the job while it runs and frees it afterwards', async () => {
      const { job, release } = controlledJob();

      const start = await runner.start(job, 'manual');
      expect(runner.runningRunId('sync')).toBe(start.run.id);
      expect(runner.runningRunId('other')).toBeUndefined();

      release.resolve();
      await finished(start.run.id);
      expect(runner.runningRunId('sync')).toBeUndefined();
    });
  });

  describe('a failing job', () => {
    it('is recorded as failed with the error message, and start() still resolves', async () => {
      const job = new FakeJob('sync', () => {
        clock.advance(40);
        return Promise.reject(new Error('disk full'));
      });

      const start = await runner.start(job, 'manual');
      expect(start.accepted).toBe(true);
      await finished(start.run.id);

      expect(await record(start.run.id)).toEqual({
        ...start.run,
        status: 'failed',
        finishedAt: '2025-01-01T08:00:00.040Z',
        durationMs: 40,
        error: 'disk full',
      });
    });

    it('publishes job.started and then job.failed with the error', async () => {
      const job = new FakeJob('sync', () => Promise.reject(new Error('disk full')));

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      expect(eventsOf(start.run.id).map((event) => event.type)).toEqual(['job.started', 'job.failed']);
      expect(eventsOf(start.run.id)[1].data).toMatchObject({ status: 'failed', error: 'disk full' });
    });

    it('contains an exception thrown synchronously by run()', async () => {
      const job: RunnableJob = {
        name: 'sync',
        run: () => {
          throw new Error('thrown before any await');
        },
      };

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      expect(await record(start.run.id)).toMatchObject({ status: 'failed', error: 'thrown before any await' });
    });

    it('records a thrown non-Error value as its string', async () => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a job may reject with anything
      const job = new FakeJob('sync', () => Promise.reject('plain string'));

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      expect((await record(start.run.id))?.error).toBe('plain string');
    });

    it('frees the job for the next run', async () => {
      const job = new FakeJob('sync', () => Promise.reject(new Error('boom')));

      const first = await runner.start(job, 'manual');
      await finished(first.run.id);
      const second = await runner.start(job, 'manual');

      expect(second.accepted).toBe(true);
      await finished(second.run.id);
    });
  });

  describe('a start while the job is running', () => {
    it('is recorded as skipped with a reason naming the running run', async () => {
      const { job, release } = controlledJob();
      const first = await runner.start(job, 'schedule');
      clock.advance(1000);

      const second = await runner.start(job, 'manual');

      expect(second.accepted).toBe(false);
      if (second.accepted) throw new Error('unreachable');
      expect(second.runningRunId).toBe(first.run.id);
      expect(second.run.id).not.toBe(first.run.id);
      const skipped = {
        id: second.run.id,
        job: 'sync',
        trigger: 'manual',
        status: 'skipped',
        scheduledFor: '2025-01-01T08:00:01.000Z',
        startedAt: '2025-01-01T08:00:01.000Z',
        finishedAt: '2025-01-01T08:00:01.000Z',
        durationMs: 0,
        error: `skipped: run ${first.run.id} of sync is still running`,
      };
      expect(second.run).toEqual(skipped);
      expect(await record(second.run.id)).toEqual(skipped);
      expect((await record(first.run.id))?.status).toBe('running');

      release.resolve();
      await finished(first.run.id);
    });

    it('publishes job.skipped for the skipped run and does not run the job again', async () => {
      const { job, release } = controlledJob();
      const first = await runner.start(job, 'manual');
      await job.entered.promise;

      const second = await runner.start(job, 'manual');

      const skippedEvents = published.filter((event) => event.type === 'job.skipped');
      expect(skippedEvents).toHaveLength(1);
      expect(skippedEvents[0].data).toMatchObject({
        runId: second.run.id,
        status: 'skipped',
        error: `skipped: run ${first.run.id} of sync is still running`,
      });
      expect(job.contexts).toHaveLength(1);

      release.resolve();
      await finished(first.run.id);
      expect(job.contexts).toHaveLength(1);
      expect(eventsOf(second.run.id).map((event) => event.type)).toEqual(['job.skipped']);
    });

    it('does not block other jobs', async () => {
      const sync = controlledJob('sync');
      const cleanup = controlledJob('cleanup');

      const first = await runner.start(sync.job, 'manual');
      const second = await runner.start(cleanup.job, 'manual');

      expect(first.accepted).toBe(true);
      expect(second.accepted).toBe(true);
      sync.release.resolve();
      cleanup.release.resolve();
      await finished(first.run.id);
      await finished(second.run.id);
    });
  });

  it('accepts only one of two starts in the same tick', async () => {
    const { job, release } = controlledJob();

    const results = await Promise.all([runner.start(job, 'manual'), runner.start(job, 'schedule')]);

    const accepted = results.filter((result) => result.accepted);
    const refused = results.filter((result) => !result.accepted);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ runningRunId: accepted[0].run.id, run: { status: 'skipped' } });
    expect((await record(refused[0].run.id))?.status).toBe('skipped');

    release.resolve();
    await finished(accepted[0].run.id);
    expect(job.contexts).toHaveLength(1);
  });

  describe('progress', () => {
    it('publishes job.progress with the percent clamped to 0–100 and the message', async () => {
      const job = new FakeJob('sync', async ({ progress }) => {
        await progress(-20, 'below');
        await progress(0);
        await progress(42.5, 'halfway');
        await progress(100, 'done');
        await progress(250, 'above');
        await progress(Infinity, 'infinite');
        await progress(NaN, 'not a number');
      });

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      const runId = start.run.id;
      expect(eventsOf(runId).map((event) => event.type)).toEqual([
        'job.started',
        'job.progress',
        'job.progress',
        'job.progress',
        'job.progress',
        'job.progress',
        'job.progress',
        'job.progress',
        'job.succeeded',
      ]);
      expect(
        eventsOf(runId)
          .filter((event) => event.type === 'job.progress')
          .map((event) => event.data),
      ).toEqual([
        { runId, job: 'sync', percent: 0, message: 'below' },
        { runId, job: 'sync', percent: 0, message: null },
        { runId, job: 'sync', percent: 42.5, message: 'halfway' },
        { runId, job: 'sync', percent: 100, message: 'done' },
        { runId, job: 'sync', percent: 100, message: 'above' },
        { runId, job: 'sync', percent: 100, message: 'infinite' },
        { runId, job: 'sync', percent: 0, message: 'not a number' },
      ]);
    });

    it('stores progress events on the jobs topic', async () => {
      const job = new FakeJob('sync', ({ progress }) => progress(10, 'a tenth'));

      const start = await runner.start(job, 'manual');
      await finished(start.run.id);

      const stored = await events.listAfter(0, 10);
      expect(stored.filter((event) => event.type === 'job.progress')).toEqual([
        expect.objectContaining({
          topic: 'jobs',
          data: { runId: start.run.id, job: 'sync', percent: 10, message: 'a tenth' },
        }),
      ]);
    });
  });

  describe('the job context', () => {
    it.each(['manual', 'startup', 'schedule'] as const)(
      'carries runId, job, trigger %s and a live signal',
      async (trigger) => {
        const { job, release } = controlledJob('daily-report');

        const start = await runner.start(job, trigger);
        const context = await job.entered.promise;

        expect(context.runId).toBe(start.run.id);
        expect(context.job).toBe('daily-report');
        expect(context.trigger).toBe(trigger);
        expect(context.signal).toBeInstanceOf(AbortSignal);
        expect(context.signal.aborted).toBe(false);
        expect(typeof context.progress).toBe('function');

        release.resolve();
        await finished(start.run.id);
        expect(context.signal.aborted).toBe(false);
      },
    );

    it('gives every run its own runId and signal', async () => {
      const job = new FakeJob('sync');

      const first = await runner.start(job, 'manual');
      await finished(first.run.id);
      const second = await runner.start(job, 'manual');
      await finished(second.run.id);

      expect(job.contexts.map((context) => context.runId)).toEqual([first.run.id, second.run.id]);
      expect(first.run.id).not.toBe(second.run.id);
      expect(job.contexts[0].signal).not.toBe(job.contexts[1].signal);
    });

    it('records the given scheduledFor', async () => {
      const job = new FakeJob('sync');

      const start = await runner.start(job, 'schedule', new Date('2025-01-01T07:59:00.000Z'));
      await finished(start.run.id);

      expect(start.run.scheduledFor).toBe('2025-01-01T07:59:00.000Z');
      expect(start.run.startedAt).toBe(T0);
    });
  });

  describe('tick', () => {
    it('records a schedule run for the fire time it is given, started at the current time', async () => {
      const job = new FakeJob('sync');
      clock.set('2025-01-01T07:00:00.042Z');

      await expect(runner.tick(job, new Date('2025-01-01T07:00:00.000Z'))).resolves.toBeUndefined();
      const context = await job.entered.promise;
      await finished(context.runId);

      expect(context.trigger).toBe('schedule');
      expect(await record(context.runId)).toMatchObject({
        trigger: 'schedule',
        status: 'succeeded',
        scheduledFor: '2025-01-01T07:00:00.000Z',
        startedAt: '2025-01-01T07:00:00.042Z',
      });
    });

    it('records a skipped schedule run when the job is still running', async () => {
      const { job, release } = controlledJob();
      const first = await runner.start(job, 'manual');

      await expect(runner.tick(job, new Date(T0))).resolves.toBeUndefined();

      const skipped = published.find((event) => event.type === 'job.skipped');
      expect(skipped?.data).toMatchObject({ trigger: 'schedule', status: 'skipped', scheduledFor: T0 });
      release.resolve();
      await finished(first.run.id);
    });

    it('does not throw once the runner is closed, and starts nothing', async () => {
      const job = new FakeJob('sync');
      await runner.drain(1000);

      await expect(runner.tick(job, new Date(T0))).resolves.toBeUndefined();

      expect(job.contexts).toHaveLength(0);
      expect(await runs.listByJob('sync', { limit: 10 })).toEqual([]);
    });

    it('does not throw when the run cannot be recorded', async () => {
      const job = new FakeJob('sync');
      await destroyDatabase();

      await expect(runner.tick(job, new Date(T0))).resolves.toBeUndefined();
      expect(job.contexts).toHaveLength(0);
    });
  });

  it('rejects start() and frees the job when the run cannot be recorded', async () => {
    const job = new FakeJob('sync');
    await destroyDatabase();

    await expect(runner.start(job, 'manual')).rejects.toThrow();

    expect(runner.runningRunId('sync')).toBeUndefined();
    expect(job.contexts).toHaveLength(0);
  });

  describe('drain', () => {
    it('returns at once when nothing runs', async () => {
      await expect(runner.drain(60_000)).resolves.toBeUndefined();
    });

    it('waits for a run that finishes within the timeout', async () => {
      const { job, release } = controlledJob();
      const start = await runner.start(job, 'manual');
      const context = await job.entered.promise;

      let drained = false;
      const draining = runner.drain(60_000).then(() => (drained = true));
      await flush();
      await flush();
      expect(drained).toBe(false);

      clock.advance(300);
      release.resolve();
      await draining;

      expect(drained).toBe(true);
      expect(context.signal.aborted).toBe(false);
      expect(await record(start.run.id)).toMatchObject({ status: 'succeeded', durationMs: 300, error: null });
      expect(eventsOf(start.run.id).map((event) => event.type)).toEqual(['job.started', 'job.succeeded']);
    });

    it('aborts the signal of a run that outlives the timeout, and lets it record its end', async () => {
      const job = new FakeJob(
        'sync',
        ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      );
      const start = await runner.start(job, 'manual');
      const context = await job.entered.promise;

      await runner.drain(5);

      expect(context.signal.aborted).toBe(true);
      expect(String((context.signal.reason as Error).message)).toContain('SHUTDOWN_TIMEOUT_MS (5 ms)');
      const recorded = await record(start.run.id);
      expect(recorded?.status).toBe('failed');
      expect(recorded?.error).toContain('shutdown');
      expect(eventsOf(start.run.id).map((event) => event.type)).toEqual(['job.started', 'job.failed']);
    });

    it('makes start() reject with RunnerClosedError afterwards', async () => {
      const { job, release } = controlledJob();
      const start = await runner.start(job, 'manual');
      const draining = runner.drain(60_000);

      await expect(runner.start(job, 'manual')).rejects.toBeInstanceOf(RunnerClosedError);

      release.resolve();
      await draining;
      await expect(runner.start(job, 'manual')).rejects.toBeInstanceOf(RunnerClosedError);
      await expect(runner.start(new FakeJob('other'), 'manual')).rejects.toThrow('shutting down');
      expect(await runs.listByJob('sync', { limit: 10 })).toEqual([expect.objectContaining({ id: start.run.id })]);
    });

    it('closes the runner even when nothing runs', async () => {
      await runner.drain(0);
      await expect(runner.start(new FakeJob('sync'), 'manual')).rejects.toBeInstanceOf(RunnerClosedError);
    });
  });
});
