import request from 'supertest';
import type { Run } from '../src/database/runs.repository.js';
import type { JobView } from '../src/jobs/jobs.service.js';
import { BillingClient } from './fixtures/billing/billing.client.js';
import { BillingModule } from './fixtures/billing/billing.module.js';
import { startApp, type TestApp } from './support/app.js';
import { runEvent, TestClient } from './support/socket.js';

/** A job as a user adds it: one file with a decorated method, in a module of its own that injects a service of its own. */
describe('a job of your own', () => {
  let server: TestApp | undefined;
  let client: TestClient | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
    server = undefined;
  });

  const jobView = async (name: string): Promise<JobView> =>
    (await request(server!.url).get(`/api/jobs/${name}`).expect(200)).body as JobView;

  it('is listed with its declared schedule, and runs by REST trigger with its module’s own service', async () => {
    server = await startApp({ imports: [BillingModule] });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    const listed = (await request(server.url).get('/api/jobs').expect(200)).body as JobView[];
    expect(listed.map((job) => job.name)).toEqual(['daily-report', 'cleanup', 'invoice-sync', 'ledger-export']);
    const view = await jobView('invoice-sync');
    expect(view).toMatchObject({ cron: '0 0/15 8-18 ? * MON-FRI', timeZone: 'UTC', paused: false });
    // Weekdays, every quarter hour from 08:00 to 18:45.
    for (const at of view.nextRunsAt) {
      const instant = new Date(at);
      expect([1, 2, 3, 4, 5]).toContain(instant.getUTCDay());
      expect(instant.getUTCHours()).toBeGreaterThanOrEqual(8);
      expect(instant.getUTCHours()).toBeLessThanOrEqual(18);
      expect(instant.getUTCMinutes() % 15).toBe(0);
    }

    const { body } = await request(server.url).post('/api/jobs/invoice-sync/trigger').expect(202);
    const succeeded = await client.waitFor(runEvent('job.succeeded', { runId: body.runId }));
    expect(succeeded.data).toMatchObject({ job: 'invoice-sync', trigger: 'manual', maxAttempts: 4 });
    expect(server.app.get(BillingClient).synced).toEqual([{ runId: body.runId, trigger: 'manual' }]);
  });

  it('runs on the schedule INVOICE_SYNC_CRON gives it', async () => {
    server = await startApp({ imports: [BillingModule], env: { INVOICE_SYNC_CRON: '* * * * * ?' } });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    expect(await jobView('invoice-sync')).toMatchObject({ cron: '* * * * * ?' });
    const succeeded = await client.waitFor(runEvent('job.succeeded', { job: 'invoice-sync' }));
    expect(succeeded.data).toMatchObject({ trigger: 'schedule' });
    const run = (await request(server.url).get(`/api/runs/${succeeded.data.runId}`).expect(200)).body as Run;
    // A tick's run is for a whole second of the schedule.
    expect(run.scheduledFor).toMatch(/T\d\d:\d\d:\d\d\.000Z$/);
    expect(server.app.get(BillingClient).synced).toContainEqual({ runId: run.id, trigger: 'schedule' });
  });

  it('runs a job without a schedule on demand only, showing no next run', async () => {
    server = await startApp({ imports: [BillingModule] });
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });

    expect(await jobView('ledger-export')).toMatchObject({
      cron: null,
      nextRunAt: null,
      nextRunsAt: [],
      running: false,
    });
    const { body } = await request(server.url).post('/api/jobs/ledger-export/trigger').expect(202);
    await client.waitFor(runEvent('job.succeeded', { runId: body.runId }));

    expect(server.app.get(BillingClient).exported).toEqual([body.runId]);
    expect((await jobView('ledger-export')).lastRun).toMatchObject({ id: body.runId, status: 'succeeded' });
  });

  it('stops start-up when <JOB_NAME>_CRON is not a schedule, naming the variable and the field', async () => {
    await expect(startApp({ imports: [BillingModule], env: { INVOICE_SYNC_CRON: '0 0 25 * * ?' } })).rejects.toThrow(
      'INVOICE_SYNC_CRON="0 0 25 * * ?": INVOICE_SYNC_CRON is not a valid cron expression: Quartz hour field',
    );
  });
});
