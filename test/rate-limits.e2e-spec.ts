import { jest } from '@jest/globals';
import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';
import { routesOf } from './support/routes.js';
import { HS256_ENV, hs256Token } from './support/tokens.js';

const LIMITS = { RATE_LIMIT_WRITES: '3', RATE_LIMIT_READS: '5' };
const MINUTE = 60_000;
const A_RUN_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Stops Date alone: the limits count by the app's clock, which reads Date, so the test
 * moves a whole minute on at once, while the app's timers, sockets and database keep real time.
 */
function stopTheDate(): void {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

function moveTheDateOn(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}

describe('REST rate limits without sign-in: one budget per address (TRUST_PROXY=1, X-Forwarded-For)', () => {
  let server: TestApp;

  beforeEach(async () => {
    stopTheDate();
    server = await startApp({ env: { ...LIMITS, TRUST_PROXY: '1' } });
  });

  afterEach(async () => {
    await server.close();
    jest.useRealTimers();
  });

  /** A client behind the one trusted proxy, which forwards its address. */
  const client = (address: string) => ({
    pause: () => request(server.url).post('/api/jobs/cleanup/pause').set('X-Forwarded-For', address),
    resume: () => request(server.url).post('/api/jobs/cleanup/resume').set('X-Forwarded-For', address),
    trigger: () => request(server.url).post('/api/jobs/daily-report/trigger').set('X-Forwarded-For', address),
    retry: () => request(server.url).post(`/api/runs/${A_RUN_ID}/retry`).set('X-Forwarded-For', address),
    read: () => request(server.url).get('/api/jobs/cleanup').set('X-Forwarded-For', address),
    preview: () =>
      request(server.url).get('/api/schedules/preview').query({ cron: '0 0 7 * * ?' }).set('X-Forwarded-For', address),
  });

  it('answers the fourth write of a minute 429, with Retry-After and a message naming the write limit', async () => {
    const alice = client('203.0.113.1');

    const pause = await alice.pause().expect(200);
    expect(pause.headers['x-ratelimit-limit']).toBe('3');
    expect(pause.headers['x-ratelimit-remaining']).toBe('2');
    await alice.resume().expect(200);
    const third = await alice.pause().expect(200);
    expect(third.headers['x-ratelimit-remaining']).toBe('0');

    // Another write route: the budget is the client's, not the route's; refused before the route looks for the run.
    const refused = await alice.retry().expect(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'too many writes: 3 per minute; retry in 60 s',
    });
  });

  it('counts reads and writes apart: neither spends the other', async () => {
    const reader = client('203.0.113.1');
    for (let read = 1; read <= 5; read++) await reader.read().expect(200);
    const refused = await reader.read().expect(429);
    expect(refused.body.message).toBe('too many reads: 5 per minute; retry in 60 s');
    for (let write = 1; write <= 3; write++) await reader.pause().expect(200);
    await reader.pause().expect(429);

    const writer = client('198.51.100.2');
    for (let write = 1; write <= 3; write++) await writer.pause().expect(200);
    await writer.pause().expect(429);
    for (let read = 1; read <= 5; read++) await writer.read().expect(200);
    await writer.read().expect(429);
  });

  it('counts the schedule preview as a write', async () => {
    const alice = client('203.0.113.1');

    for (let preview = 1; preview <= 3; preview++) await alice.preview().expect(200);
    const refused = await alice.preview().expect(429);
    expect(refused.body.message).toBe('too many writes: 3 per minute; retry in 60 s');
    await alice.pause().expect(429);
    await alice.read().expect(200);
  });

  it('never limits the probes nor the metrics', async () => {
    const alice = client('203.0.113.1');
    for (let read = 1; read <= 5; read++) await alice.read().expect(200);
    await alice.read().expect(429);
    const publicRoutes = routesOf(server.app)
      .map(({ path }) => path)
      .filter((path) => path.startsWith('/health') || path === '/metrics');
    expect(publicRoutes).toEqual(expect.arrayContaining(['/health', '/health/live', '/health/ready']));

    for (const path of publicRoutes)
      for (let call = 1; call <= 10; call++) {
        const response = await request(server.url).get(path).set('X-Forwarded-For', '203.0.113.1');
        expect({ path, status: response.status }).not.toEqual({ path, status: 429 });
        expect(response.headers['x-ratelimit-limit']).toBeUndefined();
      }
  });

  it('gives each address a budget of its own', async () => {
    const alice = client('203.0.113.1');
    const bob = client('198.51.100.2');

    for (let write = 1; write <= 3; write++) await alice.pause().expect(200);
    await alice.pause().expect(429);

    for (let write = 1; write <= 3; write++) await bob.pause().expect(200);
    await bob.pause().expect(429);
  });

  it('counts each request for a minute: Retry-After says when the oldest stops counting', async () => {
    const alice = client('203.0.113.1');
    await alice.pause().expect(200);
    moveTheDateOn(20_000);
    await alice.pause().expect(200);
    await alice.pause().expect(200);

    const refused = await alice.pause().expect(429);
    expect(refused.headers['retry-after']).toBe('40');

    moveTheDateOn(40_000); // a minute after the first write: one write free again, not three
    await alice.pause().expect(200);
    await alice.pause().expect(429);

    moveTheDateOn(MINUTE);
    for (let write = 1; write <= 3; write++) await alice.pause().expect(200);
  });

  it('answers 413 to a 20 kB body, counts it against nothing, and keeps serving', async () => {
    const alice = client('203.0.113.1');
    const twentyKilobytes = { note: 'x'.repeat(20 * 1024) };

    const { body: refusal } = await alice.trigger().send(twentyKilobytes).expect(413);
    expect(refusal).toEqual({ statusCode: 413, message: 'request entity too large' });
    // More than the write limit: had they been counted, the writes below would be refused.
    for (let attempt = 2; attempt <= 4; attempt++) await alice.trigger().send(twentyKilobytes).expect(413);

    await alice.trigger().expect(202);
    await alice.pause().expect(200);
    await request(server.url).get('/health').expect(200);
  });
});

describe('REST rate limits with sign-in: one budget per user', () => {
  let server: TestApp;

  beforeEach(async () => {
    stopTheDate();
    server = await startApp({ env: { ...HS256_ENV, ...LIMITS } });
  });

  afterEach(async () => {
    await server.close();
    jest.useRealTimers();
  });

  const pauseAs = (token: string) =>
    request(server.url).post('/api/jobs/cleanup/pause').set('Authorization', `Bearer ${token}`);

  it('gives each user a budget of their own, though they call from one address', async () => {
    const alice = await hs256Token({ sub: 'alice', roles: ['operator'] });
    const bob = await hs256Token({ sub: 'bob', roles: ['operator'] });

    for (let write = 1; write <= 3; write++) await pauseAs(alice).expect(200);
    await pauseAs(alice).expect(429);

    for (let write = 1; write <= 3; write++) await pauseAs(bob).expect(200);
    await pauseAs(bob).expect(429);
  });

  it('counts a user once, however many tokens they hold', async () => {
    const first = await hs256Token({ sub: 'alice', roles: ['operator'] });
    const second = await hs256Token({ sub: 'alice', roles: ['operator'], expiresIn: 600 });
    expect(second).not.toBe(first);

    await pauseAs(first).expect(200);
    await pauseAs(second).expect(200);
    await pauseAs(first).expect(200);
    await pauseAs(second).expect(429);
  });
});
