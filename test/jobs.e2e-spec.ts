import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';
import { eventually } from './support/deferred.js';
import { FailingReportGenerator, GatedReportGenerator } from './support/report-generators.js';
import { TestClient } from './support/socket.js';

describe('jobs, runs and reports over REST and socket.io', () => {
  let server: TestApp;
  let client: TestClient;

  afterEach(async () => {
    client?.close();
    await server?.close();
  });

  it('pushes job.started, report.created and job.succeeded of a triggered daily report, in order, with one run id', async () => {
    server = await startApp({ env: { NODE_ID: 'replica-1' } });
    client = await TestClient.connect(server.url);
    await expect(client.emit('subscribe', { topics: ['jobs', 'reports'] })).resolves.toEqual({
      ok: true,
      topics: ['jobs', 'reports'],
    });

    const trigger = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    expect(trigger.body).toEqual({ runId: expect.any(String), job: 'daily-report', status: 'running' });
    const { runId } = trigger.body;

    await client.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === runId);
    const lifecycle = client.eventsOfRun(runId).filter((event) => event.type !== 'job.progress');
    expect(lifecycle.map((event) => event.type)).toEqual(['job.started', 'report.created', 'job.succeeded']);
    expect(lifecycle.map((event) => event.topic)).toEqual(['jobs', 'reports', 'jobs']);
    const ids = client.events.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const created = lifecycle[1];
    if (created.type !== 'report.created') throw new Error('expected report.created');
    const listed = await request(server.url).get('/api/reports').expect(200);
    expect(listed.body.map((report: { id: string }) => report.id)).toContain(created.data.reportId);
    const report = await request(server.url).get(`/api/reports/${created.data.reportId}`).expect(200);
    expect(report.body).toMatchObject({ id: created.data.reportId, runId, periodEnd: created.data.periodEnd });
    expect(report.body.content.clients).toEqual({ peakConnected: 1 });
    expect(report.body.content.jobs).toEqual([
      expect.objectContaining({ job: 'daily-report', runs: expect.objectContaining({ running: 1, total: 1 }) }),
    ]);

    const run = await request(server.url).get(`/api/runs/${runId}`).expect(200);
    expect(run.body).toEqual({
      id: runId,
      job: 'daily-report',
      trigger: 'manual',
      status: 'succeeded',
      scheduledFor: expect.any(String),
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      durationMs: expect.any(Number),
      error: null,
      attempt: 1,
      maxAttempts: 1,
      retryOf: null,
      node: 'replica-1',
    });
    const runs = await request(server.url).get('/api/jobs/daily-report/runs').expect(200);
    expect(runs.body).toEqual([run.body]);
  });

  it('answers a second trigger while the job runs with 409 and the running run id, then runs again once it is done', async () => {
    GatedReportGenerator.reset();
    server = await startApp({ reportGenerator: GatedReportGenerator });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    const first = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    const second = await request(server.url).post('/api/jobs/daily-report/trigger').expect(409);
    expect(second.body).toMatchObject({ statusCode: 409, error: 'Conflict', runId: first.body.runId });
    expect(second.body.message).toContain('already running');

    const skipped = await client.waitFor((event) => event.type === 'job.skipped');
    expect(skipped.data).toMatchObject({ job: 'daily-report', status: 'skipped' });
    const job = await request(server.url).get('/api/jobs/daily-report').expect(200);
    expect(job.body.running).toBe(true);

    GatedReportGenerator.gate.resolve();
    await client.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === first.body.runId);
    await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
  });

  it('records a failing generator as job.failed with its error and keeps serving', async () => {
    server = await startApp({ reportGenerator: FailingReportGenerator });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    const failed = await client.waitFor((event) => event.type === 'job.failed');
    expect(failed.data).toMatchObject({ runId: body.runId, status: 'failed', error: 'warehouse is unreachable' });

    const run = await request(server.url).get(`/api/runs/${body.runId}`).expect(200);
    expect(run.body).toMatchObject({ status: 'failed', error: 'warehouse is unreachable' });
    await request(server.url).get('/health').expect(200, { status: 'ok' });
    await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
    const job = await request(server.url).get('/api/jobs/daily-report').expect(200);
    expect(job.body.lastRun).toMatchObject({ id: body.runId, status: 'failed' });
  });

  it('uses a REPORT_GENERATOR supplied by the user', async () => {
    GatedReportGenerator.reset();
    GatedReportGenerator.gate.resolve();
    server = await startApp({ reportGenerator: GatedReportGenerator });
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);

    const [report] = await eventually(
      async () => (await request(server.url).get('/api/reports').expect(200)).body,
      (reports: unknown[]) => reports.length === 1,
    );
    expect(report).toMatchObject({
      runId: body.runId,
      title: `Custom report for ${body.runId}`,
      content: { source: 'GatedReportGenerator', runId: body.runId },
    });
    expect(GatedReportGenerator.requests).toHaveLength(1);
    expect(GatedReportGenerator.requests[0].signal).toBeInstanceOf(AbortSignal);
  });

  it('lists both jobs with their schedule, next fire time and last run', async () => {
    server = await startApp({ env: { DAILY_REPORT_CRON: '0 30 6 ? * 2', JOBS_TIME_ZONE: 'Europe/Berlin' } });
    const { body } = await request(server.url).get('/api/jobs').expect(200);
    expect(body.map((job: { name: string }) => job.name)).toEqual(['daily-report', 'cleanup']);
    const [daily, cleanup] = body;
    expect(daily).toMatchObject({ cron: '0 30 6 ? * 2', timeZone: 'Europe/Berlin', running: false, lastRun: null });
    // Quartz weekday 2 is Monday; 06:30 in Berlin.
    const next = new Date(daily.nextRunAt);
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(next);
    expect(berlin).toBe('Mon 06:30');
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(cleanup).toMatchObject({ cron: '0 0 * * * ?', timeZone: 'Europe/Berlin' });
    expect(new Date(cleanup.nextRunAt).getUTCMinutes()).toBe(0);
  });

  it('fires a @Cron schedule given by environment and records it as trigger "schedule" at the second it was due', async () => {
    server = await startApp({ env: { CLEANUP_CRON: '* * * * * ?' } });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['system'] });
    const completed = await client.waitFor((event) => event.type === 'cleanup.completed', 4000);
    if (completed.type !== 'cleanup.completed') throw new Error('expected cleanup.completed');
    const run = await eventually(
      async () => (await request(server.url).get(`/api/runs/${completed.data.runId}`).expect(200)).body,
      (body: { status: string }) => body.status === 'succeeded',
    );
    expect(run.trigger).toBe('schedule');
    expect(new Date(run.scheduledFor).getUTCMilliseconds()).toBe(0);
  });

  it('pages runs and reports newest first with limit and before (any ISO-8601 offset)', async () => {
    server = await startApp();
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const runIds: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
      await client.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === body.runId);
      runIds.push(body.runId);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const newestFirst = [...runIds].reverse();

    const firstPage = await request(server.url).get('/api/jobs/daily-report/runs?limit=2').expect(200);
    expect(firstPage.body.map((run: { id: string }) => run.id)).toEqual(newestFirst.slice(0, 2));
    const cursor = new Date(firstPage.body[1].startedAt);
    // The same instant written with a +02:00 offset.
    const shifted = new Date(cursor.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const nextPage = await request(server.url)
      .get(`/api/jobs/daily-report/runs?limit=2&before=${encodeURIComponent(shifted)}`)
      .expect(200);
    expect(nextPage.body.map((run: { id: string }) => run.id)).toEqual(newestFirst.slice(2));

    const reports = await request(server.url).get('/api/reports?limit=2').expect(200);
    expect(reports.body.map((report: { runId: string }) => report.runId)).toEqual(newestFirst.slice(0, 2));
    const older = await request(server.url)
      .get(`/api/reports?before=${encodeURIComponent(reports.body[1].createdAt)}`)
      .expect(200);
    expect(older.body.map((report: { runId: string }) => report.runId)).toEqual(newestFirst.slice(2));
  });
});
