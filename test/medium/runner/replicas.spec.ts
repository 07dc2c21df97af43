import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Run, RunsRepository } from '../../../src/database/runs.repository.js';
import type { JobpulseEvent } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';
import { QUEUE_POLL_MS } from '../../../src/jobs/runner/overlap-queue.js';
import { TestClock } from '../../support/clock.js';
import { controlledJob, failingJob, FakeJob, gatedJob, RUN_STARTED_AT } from '../../support/factories.js';
import {
  createTestRunner,
  eventWhere,
  FINAL_TYPES,
  flush,
  runDataOf,
  runIdOf,
  startOn,
  testRunnerEnv,
  useFakeTimers,
  type TestRunner,
} from '../../support/runner.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/** Three replicas' runners on one database: the database decides which replica records and runs what. */
describe('JobRunner replicas sharing one database', () => {
  let storage: TestStorage;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let clock: TestClock;
  let replicas: TestRunner[];
  let a: TestRunner;
  let b: TestRunner;
  let c: TestRunner;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date(RUN_STARTED_AT));
    storage = await createTestStorage(clock);
    ({ runs, notifier, published } = storage);
    replicas = ['replica-a', 'replica-b', 'replica-c'].map((node) =>
      createTestRunner({ runs, notifier, clock, env: testRunnerEnv({ NODE_ID: node }) }),
    );
    [a, b, c] = replicas;
  });

  afterEach(async () => {
    jest.useRealTimers();
    for (const replica of replicas) await replica.close();
    await storage.close();
  });

  async function finished(runId: string): Promise<void> {
    await eventWhere(notifier, published, (event) => FINAL_TYPES.includes(event.type) && runIdOf(event) === runId);
    await flush();
  }

  function runsOf(jobName: string): Promise<Run[]> {
    return runs.listByJob(jobName, { limit: 100 });
  }

  it('runs a tick once: the replica that records it runs it, the others see the claim and record nothing', async () => {
    const { job, release } = controlledJob();
    const fireTime = new Date(RUN_STARTED_AT);

    const starts = await Promise.all(
      replicas.map(({ runner }) => runner.start(job, { trigger: 'schedule', scheduledFor: fireTime })),
    );

    expect(starts.filter((start) => start.accepted)).toHaveLength(1);
    expect(starts.filter((start) => !start.accepted && start.reason === 'claimed')).toHaveLength(2);
    const recorded = await runsOf('sync');
    expect(recorded).toEqual([expect.objectContaining({ status: 'running', scheduledFor: RUN_STARTED_AT })]);
    expect(['replica-a', 'replica-b', 'replica-c']).toContain(recorded[0].node);
    release.resolve();
    await finished(recorded[0].id);
    expect(job.contexts).toHaveLength(1);
  });

  it('claims a catch-up run with the fire time it makes up for, so a tick already recorded is not run again', async () => {
    const job = new FakeJob('sync');
    const fireTime = new Date('2025-01-01T07:00:00.000Z');
    const ticked = await startOn(a.runner, job, { trigger: 'schedule', scheduledFor: fireTime });
    await finished(ticked.run.id);

    const caughtUp = await b.runner.start(job, { trigger: 'catch-up', scheduledFor: fireTime });

    expect(caughtUp).toEqual({ accepted: false, reason: 'claimed' });
    expect(await runsOf('sync')).toHaveLength(1);
  });

  it('refuses a start on one replica while the job runs on another, naming the running run', async () => {
    const { job, release } = controlledJob();
    const first = await startOn(a.runner, job, { trigger: 'manual' });

    const second = await startOn(b.runner, job, { trigger: 'manual' });

    expect(second).toMatchObject({ accepted: false, reason: 'busy', runningRunId: first.run.id });
    expect(second.run).toMatchObject({ status: 'skipped', node: 'replica-b' });
    expect(b.runner.runningRunId('sync')).toBeUndefined();
    release.resolve();
    await finished(first.run.id);
  });

  it('records one skipped run for a tick that all replicas find busy', async () => {
    const { job, release } = controlledJob();
    const first = await startOn(a.runner, job, { trigger: 'manual' });
    const fireTime = new Date('2025-01-01T08:00:01.000Z');

    const starts = await Promise.all(
      replicas.map(({ runner }) => runner.start(job, { trigger: 'schedule', scheduledFor: fireTime })),
    );

    expect(starts.filter((start) => !start.accepted && start.reason === 'busy')).toHaveLength(1);
    expect(starts.filter((start) => !start.accepted && start.reason === 'claimed')).toHaveLength(2);
    const skipped = (await runsOf('sync')).filter((run) => run.status === 'skipped');
    expect(skipped).toEqual([expect.objectContaining({ scheduledFor: fireTime.toISOString() })]);
    release.resolve();
    await finished(first.run.id);
  });

  it('keeps one queued run in the cluster, and begins it on its replica once the run ahead ends elsewhere', async () => {
    useFakeTimers();
    for (const replica of replicas) await replica.bootstrap();
    const { job, gates } = gatedJob('sync', 2);
    const first = await startOn(a.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

    const queued = await startOn(b.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
    const third = await startOn(c.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });

    expect(queued).toMatchObject({ accepted: true, run: { status: 'queued', node: 'replica-b' } });
    expect(third).toMatchObject({ accepted: false, reason: 'busy', runningRunId: first.run.id });
    expect(b.runner.activeRunIds()).toEqual([queued.run.id]);
    gates[0].resolve();
    await finished(first.run.id);
    expect(b.runner.runningRunId('sync')).toBeUndefined();

    // replica-b learns that the run ahead ended from its next poll of the database.
    await jest.advanceTimersByTimeAsync(QUEUE_POLL_MS);
    await eventWhere(notifier, published, (event) => event.type === 'job.started' && runIdOf(event) === queued.run.id);

    expect(await runs.findById(queued.run.id)).toMatchObject({ status: 'running', node: 'replica-b' });
    expect(b.runner.runningRunId('sync')).toBe(queued.run.id);
    gates[1].resolve();
    await finished(queued.run.id);
  });

  it('runs a start-up run once among replicas starting within STARTUP_RUN_WINDOW, and again after it', async () => {
    const job = new FakeJob('sync');

    const first = await startOn(a.runner, job, { trigger: 'startup' });
    await finished(first.run.id);
    clock.advance(9 * 60_000);
    const withinWindow = await Promise.all([b, c].map(({ runner }) => runner.start(job, { trigger: 'startup' })));
    clock.advance(60_001);
    const afterWindow = await startOn(c.runner, job, { trigger: 'startup' });
    await finished(afterWindow.run.id);

    expect(withinWindow).toEqual([
      { accepted: false, reason: 'claimed' },
      { accepted: false, reason: 'claimed' },
    ]);
    expect(afterWindow).toMatchObject({ accepted: true, run: { node: 'replica-c' } });
    expect((await runsOf('sync')).map((run) => run.trigger)).toEqual(['startup', 'startup']);
  });

  it('records a retry as skipped when another replica started the job during the backoff', async () => {
    useFakeTimers();
    const job = failingJob('sync', 1);
    const first = await startOn(a.runner, job, {
      trigger: 'manual',
      options: { retries: 1, backoff: { initialMs: 1000 } },
    });
    await eventWhere(notifier, published, (event) => event.type === 'job.failed' && runIdOf(event) === first.run.id);
    const { job: other, release } = controlledJob();
    const elsewhere = await startOn(b.runner, other, { trigger: 'manual' });

    await jest.advanceTimersByTimeAsync(1000);
    const skipped = await eventWhere(
      notifier,
      published,
      (event) => event.type === 'job.skipped' && runDataOf(event).attempt === 2,
    );

    expect(await runs.findById(runIdOf(skipped)!)).toMatchObject({
      status: 'skipped',
      attempt: 2,
      retryOf: first.run.id,
      error: `skipped: run ${elsewhere.run.id} of sync is still running`,
    });
    expect(job.contexts).toHaveLength(1);
    expect(a.runner.runningRunId('sync')).toBeUndefined();
    release.resolve();
    await finished(elsewhere.run.id);
  });
});
