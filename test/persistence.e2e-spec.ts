import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';
import { temporaryDatabase, type TemporaryDatabase } from './support/database.js';
import { eventually } from './support/deferred.js';
import { GatedReportGenerator } from './support/report-generators.js';
import { TestClient } from './support/socket.js';

describe('stored state: restarts, catching up on missed events, the start-up report', () => {
  let database: TemporaryDatabase;
  let server: TestApp | undefined;

  beforeAll(async () => {
    database = await temporaryDatabase();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => database.remove());

  it('keeps runs, reports and events across a restart on the same database', async () => {
    const first = await startApp({ databaseUrl: database.url });
    server = first;
    const client = await TestClient.connect(first.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const { body } = await request(first.url).post('/api/jobs/daily-report/trigger').expect(202);
    await client.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === body.runId);
    client.close();
    const before = {
      run: (await request(first.url).get(`/api/runs/${body.runId}`)).body,
      reports: (await request(first.url).get('/api/reports')).body,
      events: (await request(first.url).get('/api/events?limit=500')).body,
    };
    await first.close();

    const second = await startApp({ databaseUrl: database.url });
    server = second;
    await request(second.url).get(`/api/runs/${body.runId}`).expect(200, before.run);
    await request(second.url).get('/api/reports').expect(200, before.reports);
    await request(second.url).get('/api/events?limit=500').expect(200, before.events);
    expect(before.reports).toHaveLength(1);
    expect(before.events.length).toBeGreaterThanOrEqual(4);

    // New events continue the id sequence instead of reusing ids.
    const next = await request(second.url).post('/api/jobs/cleanup/trigger').expect(202);
    const events = await eventually(
      async () => (await request(second.url).get(`/api/events?after=${before.events.at(-1).id}`)).body,
      (list: { type: string }[]) => list.some((event) => event.type === 'job.succeeded'),
    );
    expect(events[0].id).toBe(before.events.at(-1).id + 1);
    expect(events[0]).toMatchObject({ type: 'job.started', data: { runId: next.body.runId } });

    // The next report covers the period since the previous one.
    const nextReport = await request(second.url).post('/api/jobs/daily-report/trigger').expect(202);
    const [latest] = await eventually(
      async () => (await request(second.url).get('/api/reports')).body,
      (reports: unknown[]) => reports.length === 2,
    );
    expect(latest).toMatchObject({ runId: nextReport.body.runId, periodStart: before.reports[0].periodEnd });
  });

  it('returns what a disconnected client missed through GET /api/events?after=, oldest first', async () => {
    const app = await startApp();
    server = app;
    const client = await TestClient.connect(app.url);
    await client.emit('subscribe', { topics: ['jobs', 'reports', 'system'] });
    await request(app.url).post('/api/jobs/cleanup/trigger').expect(202);
    const seen = await client.waitFor((event) => event.type === 'job.succeeded');
    client.close();

    const missed = await request(app.url).post('/api/jobs/daily-report/trigger').expect(202);
    const caughtUp = await eventually(
      async () => (await request(app.url).get(`/api/events?after=${seen.id}`).expect(200)).body,
      (events: { type: string }[]) => events.some((event) => event.type === 'job.succeeded'),
    );
    expect(caughtUp.map((event: { type: string }) => event.type)).toEqual([
      'job.started',
      'job.progress',
      'report.created',
      'job.progress',
      'job.succeeded',
    ]);
    expect(caughtUp.every((event: { data: { runId: string } }) => event.data.runId === missed.body.runId)).toBe(true);
    const ids = caughtUp.map((event: { id: number }) => event.id);
    expect(ids).toEqual(ids.map((_: number, index: number) => seen.id + 1 + index));

    const paged = await request(app.url).get(`/api/events?after=${seen.id}&limit=2`).expect(200);
    expect(paged.body).toEqual(caughtUp.slice(0, 2));
  });

  it('writes a daily report at start-up without holding up the listening socket', async () => {
    GatedReportGenerator.reset();
    const app = await startApp({ env: { REPORT_ON_STARTUP: 'true' }, reportGenerator: GatedReportGenerator });
    server = app;
    // The server answers while the start-up report is still being generated.
    const { body: job } = await request(app.url).get('/api/jobs/daily-report').expect(200);
    expect(job.running).toBe(true);
    expect(job.lastRun).toMatchObject({ trigger: 'startup', status: 'running' });

    GatedReportGenerator.gate.resolve();
    const run = await eventually(
      async () => (await request(app.url).get(`/api/runs/${job.lastRun.id}`)).body,
      (body: { status: string }) => body.status === 'succeeded',
    );
    expect(run.trigger).toBe('startup');
    const { body: reports } = await request(app.url).get('/api/reports').expect(200);
    expect(reports).toEqual([expect.objectContaining({ runId: job.lastRun.id })]);
  });
});
