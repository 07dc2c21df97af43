import { unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import request from 'supertest';
import { DATABASE, sqliteFileFromUrl } from '../src/database/database.js';
import type { Database } from '../src/database/schema.js';
import { startApp, type TestApp } from './support/app.js';

describe('GET /health/live and GET /health/ready', () => {
  let server: TestApp;

  beforeEach(async () => {
    server = await startApp();
  });
  afterEach(() => server.close());

  it('answers 200 on both while the service is fine, and names every readiness check', async () => {
    await request(server.url).get('/health/live').expect(200, { status: 'ok' });
    const { body } = await request(server.url).get('/health/ready').expect(200);
    expect(body).toMatchObject({ status: 'ok', error: {} });
    expect(body.details).toEqual({
      process: { status: 'up' },
      database: expect.objectContaining({ status: 'up' }),
      migrations: expect.objectContaining({ status: 'up' }),
      sqliteFile: expect.objectContaining({ status: 'up' }),
      disk: expect.objectContaining({ status: 'up', freeBytes: expect.any(Number) }),
    });
  });

  it('is not ready once the SQLite file is deleted under it, and says so, while /health still answers 200', async () => {
    const file = resolve(sqliteFileFromUrl(server.databaseUrl));
    unlinkSync(file);

    const { body } = await request(server.url).get('/health/ready').expect(503);
    expect(body).toMatchObject({
      status: 'error',
      error: {
        sqliteFile: {
          status: 'down',
          message: `the SQLite file ${file} was deleted after it was opened: what is written now goes to the opened file and is lost when the process exits`,
        },
      },
    });
    await request(server.url).get('/health/live').expect(200, { status: 'ok' });
    // The open file still answers queries: only readiness can tell.
    await request(server.url).get('/health').expect(200, { status: 'ok' });
  });

  it('is not ready while a migration of this build is not applied, and names it', async () => {
    const db = server.app.get<Kysely<Database>>(DATABASE);
    await db
      .withTables<{ kysely_migration: { name: string } }>()
      .deleteFrom('kysely_migration')
      .where('name', '=', '0004-drop-jobs-first-seen-at')
      .execute();

    const { body } = await request(server.url).get('/health/ready').expect(503);
    expect(body.error).toEqual({
      migrations: expect.objectContaining({ status: 'down', message: 'not applied: 0004-drop-jobs-first-seen-at' }),
    });
  });

  it('is not ready while the database does not answer, and names its error', async () => {
    await server.app.get<Kysely<Database>>(DATABASE).destroy();

    const { body } = await request(server.url).get('/health/ready').expect(503);
    expect(body.error.database).toMatchObject({
      status: 'down',
      message: expect.stringMatching(/^database does not answer: /),
    });
    await request(server.url).get('/health/live').expect(200, { status: 'ok' });
  });
});
