import request from 'supertest';
import type { Run } from '../src/database/runs.repository.js';
import { startApp, type TestApp } from './support/app.js';
import { temporaryDatabase } from './support/database.js';
import { eventually } from './support/deferred.js';
import { FlakyJob, HangingJob, SlowQueueingJob, SlowSkippingJob, TickJob, TockJob } from './support/jobs.js';
import { FailingReportGenerator } from './support/report-generators.js';
import { runEvent, TestClient } from './support/socket.js';

const runsOf = async (server: TestApp, job: string): Promise<Run[]> =>
  (await request(server.url).get(`/api/jobs/${job}/runs?limit=500`).expect(200)).body as Run[];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Real timers on short schedules: each behaviour Quartz.NET users rely on. */
describe('scheduling like Quartz.NET', () => {
  let server: TestApp | undefined;
  let client: TestClient | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
    server = undefined;
  });

  it('ends a run that outlives timeoutMs as timed_out and aborts its signal', async () => {
    HangingJob.signals = [];
    server = await startApp({ jobs: [HangingJob] });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    const { body } = await request(server.url).post('/api/jobs/hanging/trigger').expect(202);
    const timedOut = await client.waitFor((event) => event.type === 'job.timed_out');
    expect(timedOut.data).toMatchObject({ runId: body.runId, status: 'timed_out', error: 'timed out after 300 ms' });
    expect(HangingJob.signals).toHaveLength(1);
    expect(HangingJob.signals[0].aborted).toBe(true);
    const run = (await request(server.url).get(`/api/runs/${body.runId}`).expect(200)).body as Run;
    expect(run.status).toBe('timed_out');
    expect(run.durationMs).toBeGreaterThanOrEqual(300);
    // The hung job no longer blocks its next run.
    await request(server.url).post('/api/jobs/hanging/trigger').expect(202);
  });

  it('retries a failed attempt with backoff and succeeds on the second, recording both attempts', async () => {
    FlakyJob.attempts = [];
    server = await startApp({ jobs: [FlakyJob] });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    const { body } = await request(server.url).post('/api/jobs/flaky/trigger').expect(202);
    const succeeded = await client.waitFor((event) => event.type === 'job.succeeded');
    const failed = client.events.find((event) => event.type === 'job.failed');
    expect(failed?.data).toMatchObject({
      runId: body.runId,
      attempt: 1,
      maxAttempts: 3,
      error: 'upstream hiccup',
      nextAttemptAt: expect.any(String),
    });
    expect(succeeded.data).toMatchObject({ attempt: 2, maxAttempts: 3, retryOf: body.runId, trigger: 'manual' });

    const runs = await runsOf(server, 'flaky');
    expect(runs.map((run) => [run.attempt, run.status])).toEqual([
      [2, 'succeeded'],
      [1, 'failed'],
    ]);
    const [second, first] = runs;
    // Equal jitter keeps the wait between half and all of the 100 ms backoff.
    expect(Date.parse(second.startedAt) - Date.parse(first.finishedAt!)).toBeGreaterThanOrEqual(50);
    expect(second.scheduledFor).toBe(first.scheduledFor);
    expect(FlakyJob.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
  });

  it('skips ticks that come while the job still runs (overlap skip), recording why', async () => {
    server = await startApp({ jobs: [SlowSkippingJob] });
    const runs = await eventually(
      () => runsOf(server!, 'slow-skip'),
      (list) => list.some((run) => run.status === 'succeeded') && list.some((run) => run.status === 'skipped'),
      6000,
    );
    const skipped = runs.find((run) => run.status === 'skipped')!;
    expect(skipped.trigger).toBe('schedule');
    expect(skipped.error).toMatch(/^skipped: run .+ of slow-skip is still running$/);
    expect(runs.filter((run) => run.status === 'running').length).toBeLessThanOrEqual(1);
  });

  it('queues one tick behind a running one (overlap queue) and skips any more', async () => {
    server = await startApp({ jobs: [SlowQueueingJob] });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const queued = await client.waitFor((event) => event.type === 'job.queued', 4000);
    if (queued.type !== 'job.queued') throw new Error('expected job.queued');
    const started = await client.waitFor(
      (event) => event.type === 'job.started' && event.data.runId === queued.data.runId,
      4000,
    );
    expect(started.data).toMatchObject({ status: 'running', trigger: 'schedule' });
    const runs = await runsOf(server, 'slow-queue');
    expect(runs.filter((run) => run.status === 'queued').length).toBeLessThanOrEqual(1);
    expect(runs.some((run) => run.status === 'skipped')).toBe(true);
  });

  it('pauses a job: its ticks leave no runs, a manual trigger still runs, and the pause survives a restart', async () => {
    const database = await temporaryDatabase();
    // `tock` shares `tick`'s schedule and is never paused: its runs show which fire times have passed.
    const tockRanAfter = (instant: number) =>
      client!.waitFor(
        (event) =>
          event.type === 'job.succeeded' &&
          event.data.job === 'tock' &&
          event.data.trigger === 'schedule' &&
          Date.parse(event.data.scheduledFor) > instant,
      );
    const scheduledTicksAfter = async (instant: number) =>
      (await runsOf(server!, 'tick')).filter(
        (run) => run.trigger === 'schedule' && Date.parse(run.scheduledFor) > instant,
      );
    try {
      server = await startApp({ jobs: [TickJob, TockJob], databaseUrl: database.url });
      client = await TestClient.connect(server.url);
      await client.emit('subscribe', { topics: ['jobs'] });
      await client.waitFor(runEvent('job.succeeded', { job: 'tick' }));

      const paused = await request(server.url).post('/api/jobs/tick/pause').expect(200);
      const pausedAt = Date.now();
      expect(paused.body).toMatchObject({ name: 'tick', paused: true, nextRunAt: null, nextRunsAt: [] });
      await client.waitFor((event) => event.type === 'job.paused' && event.data.job === 'tick');
      // Two fire times pass while `tick` is paused; any tick that fired after the pause read it.
      await tockRanAfter(pausedAt + 1000);
      expect(await scheduledTicksAfter(pausedAt)).toEqual([]);

      const manual = await request(server.url).post('/api/jobs/tick/trigger').expect(202);
      await client.waitFor(runEvent('job.succeeded', { runId: manual.body.runId }));
      client.close();
      await server.close();

      server = await startApp({ jobs: [TickJob, TockJob], databaseUrl: database.url });
      const restartedAt = Date.now();
      client = await TestClient.connect(server.url);
      await client.emit('subscribe', { topics: ['jobs'] });
      const afterRestart = await request(server.url).get('/api/jobs/tick').expect(200);
      expect(afterRestart.body).toMatchObject({ paused: true, nextRunAt: null });
      await tockRanAfter(restartedAt + 1000);
      expect(await scheduledTicksAfter(pausedAt)).toEqual([]);

      const resumed = await request(server.url).post('/api/jobs/tick/resume').expect(200);
      const resumedAt = Date.now();
      expect(resumed.body).toMatchObject({ paused: false, nextRunAt: expect.any(String) });
      await client.waitFor(
        (event) =>
          event.type === 'job.succeeded' &&
          event.data.job === 'tick' &&
          event.data.trigger === 'schedule' &&
          Date.parse(event.data.scheduledFor) > resumedAt,
      );
    } finally {
      client?.close();
      client = undefined;
      await server?.close();
      server = undefined;
      await database.remove();
    }
  });

  it('runs once, as catch-up, the fire time missed while the service was down', async () => {
    const database = await temporaryDatabase();
    try {
      server = await startApp({ jobs: [TickJob], databaseUrl: database.url });
      await eventually(
        () => runsOf(server!, 'tick'),
        (list) => list.length >= 2,
        4000,
      );
      await server.close();
      const downAt = Date.now();
      await sleep(2500);

      server = await startApp({ jobs: [TickJob], databaseUrl: database.url });
      const upAt = Date.now();
      const runs = await runsOf(server, 'tick');
      const catchUps = runs.filter((run) => run.trigger === 'catch-up');
      expect(catchUps).toHaveLength(1);
      const missed = Date.parse(catchUps[0].scheduledFor);
      expect(missed).toBeGreaterThan(downAt);
      expect(missed).toBeLessThanOrEqual(upAt);
      // Only the most recent missed fire time: nothing else from the gap.
      const fromTheGap = runs.filter((run) => {
        const at = Date.parse(run.scheduledFor);
        return at > downAt && at < missed;
      });
      expect(fromTheGap).toEqual([]);
    } finally {
      await server?.close();
      server = undefined;
      await database.remove();
    }
  });

  it('retries a failed run by hand as a new run; only failed runs can be retried', async () => {
    server = await startApp({ reportGenerator: FailingReportGenerator });
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await eventually(
      async () => (await request(server!.url).get(`/api/runs/${body.runId}`)).body as Run,
      (run) => run.status === 'failed',
    );
    const retried = await request(server.url).post(`/api/runs/${body.runId}/retry`).expect(202);
    expect(retried.body).toMatchObject({
      job: 'daily-report',
      trigger: 'retry',
      retryOf: body.runId,
      status: 'running',
    });
    expect(retried.body.id).not.toBe(body.runId);
    await eventually(
      async () => (await request(server!.url).get(`/api/runs/${retried.body.id}`)).body as Run,
      (run) => run.status === 'failed',
    );

    const cleanup = await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
    await eventually(
      async () => (await request(server!.url).get(`/api/runs/${cleanup.body.runId}`)).body as Run,
      (run) => run.status === 'succeeded',
    );
    const refused = await request(server.url).post(`/api/runs/${cleanup.body.runId}/retry`).expect(409);
    expect(refused.body.message).toContain(
      'is succeeded; only a failed, timed_out, interrupted, abandoned run can be retried',
    );
    await request(server.url).post('/api/runs/00000000-0000-0000-0000-000000000000/retry').expect(404);
  });

  it('lists the next fire times of each job from the same evaluator as the preview route', async () => {
    server = await startApp({ env: { DAILY_REPORT_CRON: '0 15 10 ? * 6L', JOBS_TIME_ZONE: 'America/New_York' } });
    const { body: job } = await request(server.url).get('/api/jobs/daily-report').expect(200);
    const { body: preview } = await request(server.url)
      .get('/api/schedules/preview')
      .query({ cron: '0 15 10 ? * 6L', timeZone: 'America/New_York', count: 5 })
      .expect(200);
    expect(job.nextRunsAt).toHaveLength(5);
    expect(job.nextRunsAt).toEqual(preview.next);
    expect(job.nextRunAt).toBe(preview.next[0]);
  });

  it('previews in JOBS_TIME_ZONE unless told otherwise', async () => {
    server = await startApp({ env: { JOBS_TIME_ZONE: 'Europe/Berlin' } });
    const { body } = await request(server.url)
      .get('/api/schedules/preview')
      .query({ cron: '0 0 7 * * ?', from: '2026-07-01T00:00:00Z', count: 1 })
      .expect(200);
    expect(body).toEqual({ cron: '0 0 7 * * ?', timeZone: 'Europe/Berlin', next: ['2026-07-01T05:00:00.000Z'] });
  });
});
