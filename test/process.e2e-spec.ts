import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp } from './support/app.js';
import { temporaryDatabase, type TemporaryDatabase } from './support/database.js';
import { eventually } from './support/deferred.js';
import { MAIN, runToExit, SLOW_REPORT_SERVER, spawnServer, type ServerProcess } from './support/server-process.js';
import { TestClient } from './support/socket.js';
import { HS256_ENV } from './support/tokens.js';

/** These run the built service (`npm test` builds first) as a separate process. */
describe('the service as a process', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  /** The database of a test that runs on the project's dialect (SQLite file or PostgreSQL). */
  let database: TemporaryDatabase | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobpulse-process-'));
  });
  afterEach(async () => {
    server?.child.kill('SIGKILL');
    server = undefined;
    await database?.remove();
    database = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with no configuration: database under ./data, migrations applied, a start-up report written', async () => {
    server = await spawnServer(MAIN, {}, dir);
    expect(existsSync(join(dir, 'data', 'jobpulse.db'))).toBe(true);
    await request(server.url).get('/health').expect(200, { status: 'ok' });
    const { body: job } = await request(server.url).get('/api/jobs/daily-report').expect(200);
    expect(job.lastRun).toMatchObject({ trigger: 'startup' });

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const logs = server
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'run succeeded', job: 'daily-report', runId: job.lastRun.id }),
    );
  });

  it('lets a run in progress finish on SIGTERM, refuses new triggers meanwhile, and exits 0', async () => {
    database = await temporaryDatabase();
    const env = { DATABASE_URL: database.url, REPORT_ON_STARTUP: 'false', SLOW_REPORT_MS: '1500' };
    server = await spawnServer(SLOW_REPORT_SERVER, env, dir);
    const client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await client.waitFor((event) => event.type === 'job.started' && event.data.runId === body.runId);

    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await request(server.url).post('/api/jobs/cleanup/trigger').expect(503);
    expect(refused.body.message).toContain('shutting down');

    const succeeded = await client.waitFor(
      (event) => event.type === 'job.succeeded' && event.data.runId === body.runId,
    );
    expect(succeeded.data).toMatchObject({ status: 'succeeded' });
    expect(await server.exited).toBe(0);
    client.close();

    const restarted = await startApp({ databaseUrl: database.url });
    try {
      const { body: run } = await request(restarted.url).get(`/api/runs/${body.runId}`).expect(200);
      expect(run).toMatchObject({ status: 'succeeded', error: null });
      expect(run.durationMs).toBeGreaterThanOrEqual(1500);
    } finally {
      await restarted.close();
    }
  });

  it('records a run that outlives SHUTDOWN_TIMEOUT_MS as interrupted, through its signal, and exits 0', async () => {
    database = await temporaryDatabase();
    const env = {
      DATABASE_URL: database.url,
      REPORT_ON_STARTUP: 'false',
      SLOW_REPORT_MS: '20000',
      SHUTDOWN_TIMEOUT_MS: '500',
    };
    server = await spawnServer(SLOW_REPORT_SERVER, env, dir);
    const client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await client.waitFor((event) => event.type === 'job.started' && event.data.runId === body.runId);

    const stoppedAt = Date.now();
    server.child.kill('SIGTERM');
    const interrupted = await client.waitFor((event) => event.type === 'job.interrupted');
    expect(interrupted.data).toMatchObject({ runId: body.runId, status: 'interrupted' });
    expect(await server.exited).toBe(0);
    // Exited after the timeout, long before the 20 s job would have ended.
    expect(Date.now() - stoppedAt).toBeLessThan(10000);
    client.close();

    const restarted = await startApp({ databaseUrl: database.url });
    try {
      const { body: run } = await request(restarted.url).get(`/api/runs/${body.runId}`).expect(200);
      expect(run).toMatchObject({
        status: 'interrupted',
        error: expect.stringContaining('SHUTDOWN_TIMEOUT_MS (500 ms)'),
      });
    } finally {
      await restarted.close();
    }
  });

  it('marks the run of a process killed mid-run as abandoned once its lease expires, and the job runs again', async () => {
    database = await temporaryDatabase();
    const env = {
      DATABASE_URL: database.url,
      REPORT_ON_STARTUP: 'false',
      SLOW_REPORT_MS: '20000',
      RUN_LEASE_MS: '1000',
    };
    server = await spawnServer(SLOW_REPORT_SERVER, env, dir);
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await eventually(
      async () => (await request(server!.url).get(`/api/runs/${body.runId}`)).body as { status: string },
      (run) => run.status === 'running',
    );
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');

    const restarted = await startApp({ databaseUrl: database.url, env: { RUN_LEASE_MS: '1000' } });
    try {
      const run = await eventually(
        async () => (await request(restarted.url).get(`/api/runs/${body.runId}`)).body as { status: string },
        (current) => current.status === 'abandoned',
      );
      expect(run).toMatchObject({ status: 'abandoned', error: 'lease expired: the process running it stopped' });
      const { body: events } = await request(restarted.url).get('/api/events?limit=500').expect(200);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'job.abandoned',
          topic: 'jobs',
          data: expect.objectContaining({ runId: body.runId }),
        }),
      );
      const { body: job } = await request(restarted.url).get('/api/jobs/daily-report').expect(200);
      expect(job.running).toBe(false);
      await request(restarted.url).post('/api/jobs/daily-report/trigger').expect(202);
    } finally {
      await restarted.close();
    }
  });

  it.each([
    ['PORT', { PORT: 'eighty' }, 'PORT'],
    ['JOBS_TIME_ZONE', { JOBS_TIME_ZONE: 'Mars/Olympus' }, 'JOBS_TIME_ZONE must be an IANA time zone'],
    [
      'DAILY_REPORT_CRON',
      { DAILY_REPORT_CRON: '0 0 7 ? * 6#6' },
      'DAILY_REPORT_CRON is not a valid cron expression: Quartz day-of-week field',
    ],
    [
      'NODE_ENV=production without sign-in',
      { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' },
      'AUTH_MODE=jwt needs AUTH_JWKS_URL (an identity provider) or AUTH_JWT_SECRET (HS256)',
    ],
    [
      'NODE_ENV=production with AUTH_MODE=off',
      { NODE_ENV: 'production', AUTH_MODE: 'off', CORS_ORIGINS: 'https://app.example.com' },
      'AUTH_MODE=off is refused when NODE_ENV=production',
    ],
    [
      'NODE_ENV=production with CORS_ORIGINS=*',
      { NODE_ENV: 'production', ...HS256_ENV, CORS_ORIGINS: '*' },
      'CORS_ORIGINS=* is refused when NODE_ENV=production',
    ],
  ])('refuses to start with a bad %s and names it', async (_name, env, message) => {
    const { code, output } = await runToExit(MAIN, env, dir);
    expect(code).toBe(1);
    expect(output).toContain(message);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it.each([
    ['another scheme', 'mysql://admin:hunter2@db/jobs'],
    ['one slash', 'postgres:/admin:hunter2@127.0.0.1/db'],
    ['no scheme', 'admin:hunter2@host/db'],
    ['an unencoded "@" and ":"', 'postgres://admin:hun@ter:2@host/db'],
    // Valid in form: these fail when migrations first connect.
    ['a port out of range', 'postgres://admin:hunter2@127.0.0.1:99999/db'],
    ['no server listening', 'postgres://admin:hunter2@127.0.0.1:1/db'],
  ])('keeps the password of a DATABASE_URL with %s out of its start-up error', async (_shape, url) => {
    const { code, output } = await runToExit(MAIN, { DATABASE_URL: url }, dir);
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL=');
    expect(output).toContain('admin:***@');
    expect(output).not.toMatch(/hunter|ter:2/);
  });

  describe('a SQLite file it cannot open', () => {
    /** Where the file is, and why it cannot be opened, in the test's folder. */
    type Case = (dir: string) => { file: string; why: string };
    it.each<[string, Case]>([
      // Node's recursive mkdir never returns here: /proc exists, but no folder can be made in it.
      ['under /proc', () => ({ file: '/proc/nonexistent/db.sqlite', why: "mkdir '/proc/nonexistent'" })],
      ['a folder', (dir) => ({ file: dir, why: 'unable to open database file: it is a folder' })],
      ['under a file', (dir) => ({ file: fileIn(dir, 'db.sqlite'), why: `${join(dir, 'file')} is not a folder` })],
      [
        'two folders under a file',
        (dir) => ({
          file: fileIn(dir, 'a/db.sqlite'),
          why: `ENOTDIR: not a directory, mkdir '${join(dir, 'file', 'a')}'`,
        }),
      ],
    ])(
      'stops start-up at once when the file is %s, naming DATABASE_URL, the file and why',
      async (_where, where) => {
        const { file, why } = where(dir);
        const { code, output } = await runToExit(MAIN, { DATABASE_URL: `sqlite:${file}` }, dir);
        expect(code).toBe(1);
        expect(output).toContain(`DATABASE_URL=sqlite:${file}: cannot open the SQLite file ${file}: `);
        expect(output).toContain(why);
      },
      // Well under runToExit's 15 s: a hang fails the test.
      8000,
    );
  });

  it('exits on a port in use before it records any run: no start-up report, no catch-up', async () => {
    const url = `sqlite:${join(dir, 'jobpulse.db')}`;
    server = await spawnServer(MAIN, { DATABASE_URL: url, REPORT_ON_STARTUP: 'false' }, dir);
    const { port } = new URL(server.url);
    // Cleanup every second: once a fire time has passed since the first server recorded the job, with no run, the
    // second would catch it up (and arm its timer) if it got that far.
    const second = {
      DATABASE_URL: url,
      HOST: '127.0.0.1',
      PORT: port,
      REPORT_ON_STARTUP: 'true',
      CLEANUP_CRON: '* * * * * ?',
    };
    const nextSecond = Math.ceil(Date.now() / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, nextSecond - Date.now() + 1));

    const { code, output } = await runToExit(MAIN, second, dir);

    expect(code).toBe(1);
    expect(output).toContain(`"msg":"HOST=127.0.0.1, PORT=${port}: cannot listen: listen EADDRINUSE`);
    expect(output).not.toMatch(/start-up report requested|catching up a missed fire time|job scheduled/);
    for (const job of ['daily-report', 'cleanup']) {
      await request(server.url).get(`/api/jobs/${job}/runs`).expect(200, []);
    }
  });
  it('answers /health/ready 503 from SIGTERM on, while the run drains and /health/live still answers', async () => {
    database = await temporaryDatabase();
    const env = { DATABASE_URL: database.url, REPORT_ON_STARTUP: 'false', SLOW_REPORT_MS: '3000' };
    server = await spawnServer(SLOW_REPORT_SERVER, env, dir);
    await request(server.url).get('/health/ready').expect(200);
    const client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await client.waitFor((event) => event.type === 'job.started' && event.data.runId === body.runId);

    server.child.kill('SIGTERM');
    const { body: ready } = await eventually(
      () => request(server!.url).get('/health/ready'),
      (response) => response.status === 503,
    );
    expect(ready.error).toEqual({
      process: { status: 'down', message: 'shutting down: finishing the runs in progress' },
    });
    // Before the drain ends: the run is still going and the process still answers.
    expect(client.events).not.toContainEqual(expect.objectContaining({ type: 'job.succeeded' }));
    await request(server.url).get('/health/live').expect(200, { status: 'ok' });

    await client.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === body.runId);
    expect(await server.exited).toBe(0);
    client.close();
  });
});

/** A path under a regular file, which no one (not even root) can make a folder of. */
function fileIn(dir: string, path: string): string {
  writeFileSync(join(dir, 'file'), '');
  return join(dir, 'file', path);
}
