import { existsSync } from 'node:fs';
import pg from 'pg';
import { startPostgresCluster, type PostgresCluster } from './support/postgres-cluster.js';

/** The test support behind every PostgreSQL spec, and what outage tests stop and start. */
describe('a throwaway PostgreSQL cluster (test support)', () => {
  let cluster: PostgresCluster | undefined;

  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
  });

  const query = async (url: string, text: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };

  it('serves trust-authenticated connections, survives stop and start on the same port with its data, and leaves nothing behind', async () => {
    cluster = await startPostgresCluster();
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    await query(cluster.url, 'create table kept (value text); insert into kept values ($$before$$)');
    expect(await query(cluster.url, 'show fsync')).toEqual([{ fsync: 'off' }]);

    const open = new pg.Client({ connectionString: cluster.url });
    await open.connect();
    const dropped = new Promise<Error>((resolve) => open.on('error', resolve));
    await cluster.stop();
    expect((await dropped).message).toMatch(/terminat|shut ?down|Connection/i);
    await expect(query(cluster.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.stop(); // a second stop is a no-op

    await cluster.start();
    expect(await query(cluster.url, 'select value from kept')).toEqual([{ value: 'before' }]);

    const { dir } = cluster;
    await cluster.destroy();
    cluster = undefined;
    expect(existsSync(dir)).toBe(false);
  });
});
