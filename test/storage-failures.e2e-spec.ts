import { sql, type Kysely } from 'kysely';
import { rm } from 'node:fs/promises';
import request from 'supertest';
import { DATABASE, sqliteFileFromUrl } from '../src/database/database.js';
import type { Database } from '../src/database/schema.js';
import { startApp, type TestApp } from './support/app.js';

/** A SQLite file (the project e2e:sqlite); PostgreSQL outages are the cluster specs' business. */
describe('a database that can no longer store', () => {
  let server: TestApp;

  beforeEach(async () => {
    server = await startApp();
  });

  afterEach(() => server.close());

  it('answers writes 503 naming a full database, and keeps what was recorded before', async () => {
    const recorded = await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
    const db = server.app.get<Kysely<Database>>(DATABASE);
    const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(db);
    // What a full disk does to SQLite, without filling this machine's disk: no page can be added.
    await sql.raw(`PRAGMA max_page_count = ${rows[0].page_count}`).execute(db);

    let refused: request.Response | undefined;
    for (let attempt = 0; attempt < 200 && !refused; attempt++) {
      const response = await request(server.url).post('/api/jobs/cleanup/trigger');
      if (response.status !== 202) refused = response;
    }

    expect(refused?.status).toBe(503);
    expect(refused?.headers['retry-after']).toBe('30');
    expect(refused?.body.message).toBe('the database is full: its disk has no space left; nothing was recorded');
    await request(server.url).get(`/api/runs/${recorded.body.runId}`).expect(200);
    await request(server.url).get('/health/live').expect(200);

    // Space freed: writes are accepted again, and the runs that could not record their outcome do.
    await sql.raw('PRAGMA max_page_count = 1073741823').execute(db);
    await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
  });

  it('refuses writes once the SQLite file is deleted, saying so, and turns not ready', async () => {
    await rm(sqliteFileFromUrl(server.databaseUrl));

    const refused = await request(server.url).post('/api/jobs/cleanup/trigger').expect(503);

    expect(refused.body.message).toMatch(
      /^the SQLite file .* was deleted after it was opened: .*; nothing was recorded$/,
    );
    const ready = await request(server.url).get('/health/ready').expect(503);
    expect(ready.body.error.sqliteFile.message).toMatch(/was deleted/);
  });
});
