import { jest } from '@jest/globals';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { CachedStatements } from './cached-statements.js';

describe('CachedStatements', () => {
  let sqlite: SqliteDatabase.Database;
  let prepare: jest.Spied<SqliteDatabase.Database['prepare']>;

  beforeEach(() => {
    sqlite = new SqliteDatabase(':memory:');
    prepare = jest.spyOn(sqlite, 'prepare');
  });

  afterEach(() => {
    if (sqlite.open) sqlite.close();
  });

  it('prepares each SQL text once and hands back its statement', () => {
    const statements = new CachedStatements(sqlite);

    const first = statements.prepare('select 1');
    expect(statements.prepare('select 1')).toBe(first);
    expect(statements.prepare('select 2')).not.toBe(first);
    expect(prepare).toHaveBeenCalledTimes(2);
  });

  it('drops the least recently used statement past its capacity', () => {
    const statements = new CachedStatements(sqlite, 2);
    statements.prepare('select 1');
    statements.prepare('select 2');
    statements.prepare('select 1');
    statements.prepare('select 3');
    prepare.mockClear();

    statements.prepare('select 1');
    statements.prepare('select 3');
    expect(prepare).not.toHaveBeenCalled();
    statements.prepare('select 2');
    expect(prepare).toHaveBeenCalledWith('select 2');
  });

  it('closes the database', () => {
    new CachedStatements(sqlite).close();

    expect(sqlite.open).toBe(false);
  });

  describe('under Kysely', () => {
    let db: Kysely<{ jobs: { name: string; paused?: number } }>;

    beforeEach(async () => {
      db = new Kysely({ dialect: new SqliteDialect({ database: new CachedStatements(sqlite) }) });
      await db.schema.createTable('jobs').addColumn('name', 'text').execute();
      await db.insertInto('jobs').values({ name: 'cleanup' }).execute();
    });

    afterEach(() => db.destroy());

    it('runs a reused statement with the parameters of each query', async () => {
      const named = (name: string) => db.selectFrom('jobs').select('name').where('name', '=', name).execute();

      expect(await named('cleanup')).toEqual([{ name: 'cleanup' }]);
      expect(await named('daily-report')).toEqual([]);
      await db.insertInto('jobs').values({ name: 'daily-report' }).execute();
      expect(await named('daily-report')).toEqual([{ name: 'daily-report' }]);
      expect(prepare.mock.calls.filter(([text]) => String(text).startsWith('select'))).toHaveLength(1);
    });

    it('reads the columns a migration added since the statement was prepared', async () => {
      const all = () => db.selectFrom('jobs').selectAll().execute();
      expect(await all()).toEqual([{ name: 'cleanup' }]);

      await sql`alter table jobs add column paused integer not null default 0`.execute(db);

      expect(await all()).toEqual([{ name: 'cleanup', paused: 0 }]);
    });
  });
});
