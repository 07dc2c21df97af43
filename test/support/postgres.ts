// Fresh PostgreSQL databases for tests, on the server of JOBPULSE_TEST_POSTGRES_URL (the
// throwaway cluster Jest's global setup starts, or a developer's own server).
//
// Imports packages only, no relative files: Jest's global teardown loads it through its
// CommonJS require hook (see test/support/jest-global-teardown.cjs).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin URL of the test server; throws when the tests were started without one. */
export function testPostgresAdminUrl(): string {
  const url = process.env.JOBPULSE_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      'JOBPULSE_TEST_POSTGRES_URL is not set: run the tests through Jest (`npm test`), whose global setup starts ' +
        'a throwaway PostgreSQL server, or set it to the admin URL of a server of your own.',
    );
  }
  return url;
}

/** Every database created here starts with this; Jest's global setup makes it unique to the run. */
export function testDatabasePrefix(): string {
  return process.env.JOBPULSE_TEST_DATABASE_PREFIX ?? 'jobpulse_test_';
}

async function withAdminClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresAdminUrl() });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a random name on the test server and returns its URL (same user as the admin URL). */
export async function createPostgresDatabaseUrl(): Promise<string> {
  const name = `${testDatabasePrefix()}${randomBytes(8).toString('hex')}`;
  await withAdminClient((client) => client.query(`create database "${name}"`));
  const url = new URL(testPostgresAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by {@link createPostgresDatabaseUrl}, cutting off whoever is still connected. */
export async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  await withAdminClient((client) =>
    client.query(`drop database if exists "${name.replaceAll('"', '""')}" with (force)`),
  );
}

/** Drops every database whose name starts with `prefix` (what one test run created). Returns how many. */
export async function dropPostgresDatabasesStartingWith(prefix: string): Promise<number> {
  return withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where starts_with(datname, $1) and datname not in ('postgres', 'template0', 'template1')",
      [prefix],
    );
    for (const { datname } of rows) {
      await client.query(`drop database if exists "${datname.replaceAll('"', '""')}" with (force)`);
    }
    return rows.length;
  });
}
