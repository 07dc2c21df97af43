import type { Kysely } from 'kysely';
import request from 'supertest';
import { DATABASE } from '../src/database/database.js';
import type { Database } from '../src/database/schema.js';
import { startApp } from './support/app.js';

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
