import type { Kysely } from 'kysely';
import request from 'supertest';
import { DATABASE } from '../src/database/database.js';
import type { Database } from '../src/database/schema.js';
import { startApp, type TestApp } from './support/app.js';
import { TestClient } from './support/socket.js';

describe('GET /health', () => {
  it('is 200 while the database answers and 503 naming the problem once it does not', async () => {
    const server = await startApp();
    try {
      await request(server.url).get('/health').expect(200, { status: 'ok' });
      await server.app.get<Kysely<Database>>(DATABASE).destroy();
      const { body } = await request(server.url).get('/health').expect(503);
      expect(body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(body.message).toMatch(/^database does not answer: /);
    } finally {
      await server.close();
    }
  });
});

describe('HTTP response headers', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({ env: { CORS_ORIGINS: 'https://ops.example.com' } });
  });
  afterAll(() => server.close());

  it.each([
    ['a route', () => request(server.url).get('/health').expect(200)],
    ['an unknown route', () => request(server.url).get('/api/nothing-here').expect(404)],
    [
      'a body that is not JSON',
      () =>
        request(server.url)
          .post('/api/jobs/daily-report/trigger')
          .set('Content-Type', 'application/json')
          .send('{not json')
          .expect(400),
    ],
  ])("carry helmet's headers and no X-Powered-By on %s", async (_case, send) => {
    const { headers } = await send();
    expect(headers['x-powered-by']).toBeUndefined();
    expect(headers).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'strict-transport-security': expect.stringContaining('max-age='),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    });
  });

  it('still lets an allowed origin call the API and open a socket', async () => {
    const { headers } = await request(server.url).get('/api/jobs').set('Origin', 'https://ops.example.com').expect(200);
    expect(headers['access-control-allow-origin']).toBe('https://ops.example.com');
    const client = await TestClient.connect(server.url);
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toBeDefined();
    client.close();
  });
});
