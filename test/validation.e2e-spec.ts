import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';
import { TestClient } from './support/socket.js';

describe('bad input gets a clear error and loses nothing', () => {
  let server: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    server = await startApp();
    client = await TestClient.connect(server.url);
  });

  afterAll(async () => {
    client.close();
    await server.close();
  });

  it.each([
    ['/api/jobs/daily-report/runs?limit=0', 'limit must not be less than 1'],
    ['/api/jobs/daily-report/runs?limit=501', 'limit must not be greater than 500'],
    ['/api/reports?limit=ten', 'limit must be an integer number'],
    ['/api/reports?limit=2.5', 'limit must be an integer number'],
    ['/api/reports?before=yesterday', 'before must be an ISO-8601 instant'],
    ['/api/events?after=-1', 'after must not be less than 0'],
    ['/api/events?after=1&limit=1000', 'limit must not be greater than 500'],
    ['/api/events?since=1', 'property since should not exist'],
  ])('GET %s is a 400 naming the field', async (path, message) => {
    const { body } = await request(server.url).get(path).expect(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message.join(' ')).toContain(message);
  });

  // Found by fuzzing: Date cannot read these ISO-8601 forms, and they answered 500. Each is a 400 naming the parameter.
  const instantsRefused = [
    '2026-W01-1',
    '20260101T000000Z',
    '2026-01-01T00Z',
    '2026-100',
    '2026-01-01T00:00:00,5Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-13-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '1969-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '9999-12-31T23:59:59-01:00',
  ];
  describe.each([
    ['/api/reports', 'before', {}],
    ['/api/jobs/daily-report/runs', 'before', {}],
    ['/api/schedules/preview', 'from', { cron: '0 0 12 * * ?' }],
  ])('%s?%s=', (path, parameter, otherParameters) => {
    it.each(instantsRefused)('%s is a 400 naming the parameter', async (value) => {
      const { body } = await request(server.url)
        .get(path)
        .query({ ...otherParameters, [parameter]: value })
        .expect(400);
      expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(body.message).toEqual([expect.stringMatching(new RegExp(`^${parameter} must be an ISO-8601 instant`))]);
    });

    it.each(['2026-01-31T07:00:00.000Z', '2026-01-31T09:00:00+02:00', '2026-01-31T07:00Z', '9999-12-31T23:59:59.999Z'])(
      '%s is accepted',
      async (value) => {
        await request(server.url)
          .get(path)
          .query({ ...otherParameters, [parameter]: value })
          .expect(200);
      },
    );
  });

  it('accepts limits at both ends of 1..500', async () => {
    await request(server.url).get('/api/reports?limit=1').expect(200);
    await request(server.url).get('/api/events?limit=500').expect(200);
  });

  it.each([
    ['get', '/api/jobs/nightly'],
    ['post', '/api/jobs/nightly/trigger'],
    ['get', '/api/jobs/nightly/runs'],
    ['get', '/api/runs/00000000-0000-0000-0000-000000000000'],
    ['get', '/api/reports/00000000-0000-0000-0000-000000000000'],
  ] as const)('%s %s is a 404 naming what does not exist', async (method, path) => {
    const { body } = await request(server.url)[method](path).expect(404);
    expect(body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(body.message).toMatch(/^(job "nightly"|run "0{8}|report "0{8}).* does not exist$/);
  });

  it.each([
    ['an unknown topic', { topics: ['jobs', 'weather'] }, 'topics may only contain jobs, reports, system'],
    ['an empty list', { topics: [] }, 'topics must name at least one topic'],
    ['topics that is not an array', { topics: 'jobs' }, 'topics must be an array'],
    ['a missing field', {}, 'topics must be an array'],
    ['an unexpected field', { topics: ['jobs'], room: 'x' }, 'property room should not exist'],
    ['a payload that is not an object', 'jobs', 'topics must be an array'],
  ])(
    'answers subscribe with %s by an error acknowledgement and keeps the connection',
    async (_case, payload, error) => {
      const reply = await client.emit<{ ok: boolean; error: string }>('subscribe', payload);
      expect(reply.ok).toBe(false);
      expect(reply.error).toContain(error);
      expect(client.socket.connected).toBe(true);
      await expect(client.emit('subscribe', { topics: ['system'] })).resolves.toEqual({ ok: true, topics: ['system'] });
    },
  );

  it('validates unsubscribe the same way and reports the remaining topics', async () => {
    await client.emit('subscribe', { topics: ['jobs', 'reports'] });
    const bad = await client.emit<{ ok: boolean; error: string }>('unsubscribe', { topics: ['nope'] });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('topics may only contain') });
    await expect(client.emit('unsubscribe', { topics: ['jobs'] })).resolves.toEqual({
      ok: true,
      topics: ['reports', 'system'],
    });
  });

  it('stops delivering a topic after unsubscribe', async () => {
    const watcher = await TestClient.connect(server.url);
    try {
      await watcher.emit('subscribe', { topics: ['jobs', 'system'] });
      await watcher.emit('unsubscribe', { topics: ['jobs'] });
      await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
      const completed = await watcher.waitFor((event) => event.type === 'cleanup.completed');
      expect(watcher.events.filter((event) => event.topic === 'jobs')).toEqual([]);
      expect(completed.topic).toBe('system');
    } finally {
      watcher.close();
    }
  });
});
