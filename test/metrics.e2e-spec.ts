import request from 'supertest';
import { startApp, type StartOptions, type TestApp } from './support/app.js';
import { eventually } from './support/deferred.js';
import { FlakyJob, TickJob } from './support/jobs.js';
import { runEvent, TestClient } from './support/socket.js';
import { HS256_ENV, hs256Token } from './support/tokens.js';

const METRICS_TOKEN = 'metrics-token-for-the-e2e-spec';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function samplesOf(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]),
      );
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The value of the sample with this name and exactly these labels; 0 when the series does not exist yet. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const sample = samples.find(
    (candidate) => candidate.name === name && JSON.stringify(Object.entries(candidate.labels).sort()) === wanted,
  );
  return sample?.value ?? 0;
}

/** How much each sample grew between two scrapes. */
function growthBetween(before: Sample[], after: Sample[]) {
  return (name: string, labels?: Record<string, string>) =>
    valueOf(after, name, labels) - valueOf(before, name, labels);
}

describe('GET /metrics', () => {
  let server: TestApp;
  let client: TestClient | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
  });

  /** Starts the app with a client subscribed to topic `jobs`. */
  async function startWatching(options?: StartOptions): Promise<TestClient> {
    server = await startApp(options);
    client = await TestClient.connect(server.url);
    await client.emit('subscribe', { topics: ['jobs'] });
    return client;
  }

  async function scrape(token?: string): Promise<Sample[]> {
    const call = request(server.url).get('/metrics');
    if (token) call.set('Authorization', `Bearer ${token}`);
    const response = await call.expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return samplesOf(response.text);
  }

  it('counts a triggered run, its events and its HTTP request, by route template', async () => {
    const watcher = await startWatching();
    const before = await scrape();

    const trigger = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await watcher.waitFor(runEvent('job.succeeded', { runId: trigger.body.runId }));
    await request(server.url).get('/api/jobs/no-such-job').expect(404);
    await request(server.url).get('/no/such/path').expect(404);
    const after = await scrape();

    const grown = growthBetween(before, after);
    expect(grown('jobpulse_runs_total', { job: 'daily-report', trigger: 'manual', status: 'succeeded' })).toBe(1);
    expect(grown('jobpulse_run_duration_seconds_count', { job: 'daily-report' })).toBe(1);
    expect(valueOf(after, 'jobpulse_runs_in_progress', { job: 'daily-report' })).toBe(0);
    // job.started, report.created, job.succeeded (and the report's progress, if any) were published.
    expect(grown('jobpulse_events_published_total', { topic: 'jobs' })).toBeGreaterThanOrEqual(2);
    expect(grown('jobpulse_events_published_total', { topic: 'reports' })).toBe(1);
    expect(
      grown('jobpulse_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/jobs/:name/trigger',
        status: '202',
      }),
    ).toBe(1);
    expect(
      grown('jobpulse_http_request_duration_seconds_count', { method: 'GET', route: '/api/jobs/:name', status: '404' }),
    ).toBe(1);
    expect(
      grown('jobpulse_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(1);
    const routes = new Set(
      after.filter((sample) => sample.name.startsWith('jobpulse_http_')).map((sample) => sample.labels.route),
    );
    expect([...routes].filter((route) => route.includes('no-such') || route.includes('/no/'))).toEqual([]);
  });

  it('counts a failed attempt as failed, and its retry', async () => {
    FlakyJob.attempts = [];
    const watcher = await startWatching({ jobs: [FlakyJob] });
    const before = await scrape();

    await request(server.url).post('/api/jobs/flaky/trigger').expect(202);
    await watcher.waitFor(runEvent('job.succeeded', { job: 'flaky' }));
    const after = await scrape();

    const grown = growthBetween(before, after);
    expect(grown('jobpulse_runs_total', { job: 'flaky', trigger: 'manual', status: 'failed' })).toBe(1);
    expect(grown('jobpulse_runs_total', { job: 'flaky', trigger: 'manual', status: 'succeeded' })).toBe(1);
    expect(grown('jobpulse_run_retries_total', { job: 'flaky' })).toBe(1);
    expect(grown('jobpulse_run_duration_seconds_count', { job: 'flaky' })).toBe(2);
  });

  it('measures the schedule lag of scheduled runs', async () => {
    const watcher = await startWatching({ jobs: [TickJob] });

    await watcher.waitFor(runEvent('job.succeeded', { job: 'tick' }));
    const samples = await scrape();

    // Lag is measured as a run starts, the run counted as it ends: the next tick may have started meanwhile.
    const ended = valueOf(samples, 'jobpulse_runs_total', { job: 'tick', trigger: 'schedule', status: 'succeeded' });
    const measured = valueOf(samples, 'jobpulse_schedule_lag_seconds_count', { job: 'tick' });
    expect(ended).toBeGreaterThanOrEqual(1);
    expect([ended, ended + 1]).toContain(measured);
    // A timer due at the fire time starts its run at once: within 5 s even on a machine under load.
    expect(valueOf(samples, 'jobpulse_schedule_lag_seconds_bucket', { job: 'tick', le: '5' })).toBe(
      valueOf(samples, 'jobpulse_schedule_lag_seconds_count', { job: 'tick' }),
    );
  });

  it('counts the events sent to sockets live, replayed to a resuming socket, and resyncs', async () => {
    const watcher = await startWatching();
    const before = await scrape();

    const trigger = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await watcher.waitFor(runEvent('job.succeeded', { runId: trigger.body.runId }));
    const [first] = watcher.eventsOfRun(trigger.body.runId);
    const resuming = await TestClient.connect(server.url, { auth: { lastEventId: first.id - 1 } });
    const replay = await resuming.emit<{ replayed: number }>('subscribe', { topics: ['jobs'] });
    resuming.close();
    const lost = await TestClient.connect(server.url, { auth: { lastEventId: 1_000_000 } });
    await expect(lost.emit('subscribe', { topics: ['jobs'] })).resolves.toMatchObject({ resync: true });
    lost.close();
    const after = await scrape();

    const grown = growthBetween(before, after);
    const liveJobEvents = watcher.events.filter((event) => event.topic === 'jobs').length;
    expect(grown('jobpulse_events_delivered_total', { topic: 'jobs' })).toBe(liveJobEvents);
    expect(replay.replayed).toBeGreaterThanOrEqual(2);
    expect(grown('jobpulse_events_replayed_total', { topic: 'jobs' })).toBe(replay.replayed);
    expect(grown('jobpulse_resyncs_total')).toBe(1);
  });

  it('counts the connected sockets', async () => {
    server = await startApp();
    expect(valueOf(await scrape(), 'jobpulse_connected_sockets')).toBe(0);

    client = await TestClient.connect(server.url);
    expect(valueOf(await scrape(), 'jobpulse_connected_sockets')).toBe(1);

    client.close();
    await eventually(scrape, (samples) => valueOf(samples, 'jobpulse_connected_sockets') === 0);
  });

  it('needs METRICS_TOKEN as a bearer token when it is set', async () => {
    server = await startApp({ env: { METRICS_TOKEN } });

    const missing = await request(server.url).get('/metrics').expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    const wrong = await request(server.url).get('/metrics').set('Authorization', 'Bearer not-the-token').expect(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="metrics", error="invalid_token"');
    expect(wrong.text).not.toContain(METRICS_TOKEN);
    await request(server.url).get('/metrics').set('Authorization', METRICS_TOKEN).expect(401);

    const samples = await scrape(METRICS_TOKEN);
    expect(
      valueOf(samples, 'jobpulse_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/metrics',
        status: '401',
      }),
    ).toBe(3);
  });

  it('is public to sign-in, and counts the requests sign-in refused under their route', async () => {
    server = await startApp({ env: { ...HS256_ENV, METRICS_TOKEN } });
    const viewer = await hs256Token({ roles: ['viewer'] });
    await request(server.url).post('/api/jobs/daily-report/trigger').expect(401);
    await request(server.url)
      .post('/api/jobs/daily-report/trigger')
      .set('Authorization', `Bearer ${viewer}`)
      .expect(403);

    // The scraper's token is METRICS_TOKEN, not a user's: the sign-in guard lets it through.
    const samples = await scrape(METRICS_TOKEN);
    for (const status of ['401', '403']) {
      const labels = { method: 'POST', route: '/api/jobs/:name/trigger', status };
      expect(valueOf(samples, 'jobpulse_http_request_duration_seconds_count', labels)).toBe(1);
    }
    await request(server.url).get('/metrics').set('Authorization', `Bearer ${viewer}`).expect(401);
  });

  it('is open when METRICS_TOKEN is unset, with the default process metrics under the jobpulse_ prefix', async () => {
    server = await startApp();
    const response = await request(server.url).get('/metrics').set('Authorization', 'Bearer anything').expect(200);
    const samples = samplesOf(response.text);

    const names = new Set(samples.map((sample) => sample.name));
    expect(names).toContain('jobpulse_process_cpu_user_seconds_total');
    expect(names).toContain('jobpulse_process_resident_memory_bytes');
    expect(names).toContain('jobpulse_nodejs_eventloop_lag_seconds');
    expect(names).toContain('jobpulse_nodejs_heap_size_used_bytes');
  });

  it('names every metric jobpulse_…', async () => {
    server = await startApp({ jobs: [FlakyJob] });
    await request(server.url).post('/api/jobs/flaky/trigger').expect(202);
    const response = await request(server.url).get('/metrics').expect(200);

    const declared = [...response.text.matchAll(/^# (?:HELP|TYPE) (\S+)/gm)].map(([, name]) => name);
    const sampled = samplesOf(response.text).map((sample) => sample.name);
    expect(declared.length).toBeGreaterThan(20);
    expect([...declared, ...sampled].filter((name) => !name.startsWith('jobpulse_'))).toEqual([]);
  });
});
