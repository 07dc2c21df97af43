import { jest } from '@jest/globals';
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { Logger } from '@nestjs/common';
import SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { createDatabase, sqliteFileFromUrl } from '../../../src/database/database.js';
import type { Database } from '../../../src/database/schema.js';
import { WalCheckpointer } from '../../../src/database/wal-checkpointer.js';
import { testDialect, temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';
import { deferred, eventually } from '../../support/deferred.js';

const PAGE_BYTES = 4096;
/** Fewer pages than the main connection's automatic checkpoint waits for: only the worker can copy them to the file. */
const PAGES_PER_COMMIT = 500;

interface LogIndex {
  /** Frames (pages) in the write-ahead log. */
  frames: number;
  /** Of those, how many a checkpoint has copied into the database file. */
  checkpointed: number;
}

/**
 * Read from the log's shared index (the -shm file, https://www.sqlite.org/walformat.html): asking SQLite,
 * with `pragma wal_checkpoint`, would checkpoint. mxFrame is at byte 16 of the header, nBackfill at byte 96,
 * both in the machine's byte order.
 */
function logIndex(file: string): LogIndex {
  const index = readFileSync(`${file}-shm`).subarray(0, 100);
  const read = (offset: number) => (endianness() === 'LE' ? index.readUInt32LE(offset) : index.readUInt32BE(offset));
  return { frames: read(16), checkpointed: read(96) };
}

// A write-ahead log and a file that a second connection opens are SQLite's; PostgreSQL has neither.
const describeOnSqlite = testDialect() === 'sqlite' ? describe : describe.skip;

describeOnSqlite('WalCheckpointer', () => {
  let database: TemporaryDatabase;
  let file: string;

  beforeEach(async () => {
    database = await temporaryDatabase();
    file = sqliteFileFromUrl(database.url);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await database.remove();
  });

  describe('on a database from createDatabase', () => {
    let db: Kysely<Database>;

    beforeEach(async () => {
      db = createDatabase(database.url);
      await sql`create table pages (content blob not null)`.execute(db);
    });
    afterEach(() => db.destroy());

    /** One commit of about PAGES_PER_COMMIT pages, then the log once every frame in it is copied to the file. */
    async function commitAndAwaitCheckpoint(): Promise<LogIndex> {
      await sql`with recursive page(n) as (select 1 union all select n + 1 from page where n < ${PAGES_PER_COMMIT})
        insert into pages (content) select randomblob(${PAGE_BYTES - 100}) from page`.execute(db);
      return eventually(
        () => Promise.resolve(logIndex(file)),
        ({ frames, checkpointed }) => frames > 0 && checkpointed === frames,
      );
    }

    it('leaves the connection’s automatic checkpoint for long logs and copies each commit into the file from the worker', async () => {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db);
      expect(rows).toEqual([{ wal_autocheckpoint: 10_000 }]);

      const log = await commitAndAwaitCheckpoint();

      expect(log.frames).toBeGreaterThanOrEqual(PAGES_PER_COMMIT);
      expect(statSync(file).size).toBeGreaterThan(PAGES_PER_COMMIT * PAGE_BYTES);
    });

    it('does not sync at each commit, only at each checkpoint (synchronous NORMAL)', async () => {
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);

      expect(rows).toEqual([{ synchronous: 1 }]);
    });

    it('keeps the log as long as about one commit, however many follow', async () => {
      for (let commit = 0; commit < 6; commit += 1) await commitAndAwaitCheckpoint();

      // Each commit after a complete checkpoint writes the log from its beginning again.
      expect(statSync(`${file}-wal`).size).toBeLessThan(2 * PAGES_PER_COMMIT * PAGE_BYTES);
    });

    it('is stopped by db.destroy() before the connection closes, which then removes the log as the last one open', async () => {
      await commitAndAwaitCheckpoint();
      expect(existsSync(`${file}-wal`)).toBe(true);

      await db.destroy();

      expect(existsSync(`${file}-wal`)).toBe(false);
    });
  });

  it('logs a worker that fails and turns the connection’s automatic checkpoint back on', async () => {
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    // The worker opens the file by its name, which no longer finds it.
    unlinkSync(file);
    const logged = deferred<unknown>();
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message) => logged.resolve(message));

    const checkpointer = new WalCheckpointer(sqlite);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);

    await expect(logged.promise).resolves.toMatchObject({
      msg: expect.stringContaining('WAL checkpoint worker failed') as string,
      file,
      error: expect.stringContaining('unable to open database file') as string,
    });
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.stop();
    sqlite.close();
  });
});
