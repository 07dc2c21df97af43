import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MIN_FREE_BYTES, SqliteFile } from './sqlite-file.js';

describe('SqliteFile', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobpulse-sqlite-file-'));
    path = join(dir, 'jobpulse.db');
    writeFileSync(path, 'opened');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is the file of a sqlite: URL, resolved; PostgreSQL and in-memory databases have none', () => {
    expect(SqliteFile.of('sqlite:./data/jobpulse.db')?.path).toBe(resolve('data/jobpulse.db'));
    expect(SqliteFile.of(`sqlite://${path}`)?.path).toBe(path);
    expect(SqliteFile.of('sqlite::memory:')).toBeUndefined();
    expect(SqliteFile.of('postgres://jobpulse@db/jobpulse')).toBeUndefined();
  });

  it('passes while the path leads to the file that was opened', async () => {
    const file = new SqliteFile(path);
    await file.remember();
    writeFileSync(path, 'written since');
    await expect(file.assertStillOpened()).resolves.toBeUndefined();
  });

  it('says the file was deleted once it is gone', async () => {
    const file = new SqliteFile(path);
    await file.remember();
    unlinkSync(path);
    await expect(file.assertStillOpened()).rejects.toThrow(
      `the SQLite file ${path} was deleted after it was opened: what is written now goes to the opened file and is lost when the process exits`,
    );
  });

  it('says the file was replaced once another file takes its path', async () => {
    const file = new SqliteFile(path);
    await file.remember();
    writeFileSync(join(dir, 'restored.db'), 'a backup');
    renameSync(join(dir, 'restored.db'), path);
    await expect(file.assertStillOpened()).rejects.toThrow(
      `the SQLite file ${path} was replaced by another file after it was opened`,
    );
  });

  it('reports the free space beside the file, and a disk full below MIN_FREE_BYTES', async () => {
    const diskWith = (freeBytes: number) =>
      new SqliteFile(path, { stat, statfs: () => Promise.resolve({ bavail: freeBytes / 4096, bsize: 4096 }) });

    await expect(diskWith(MIN_FREE_BYTES).assertDiskHasRoom()).resolves.toEqual({ freeBytes: MIN_FREE_BYTES });
    await expect(diskWith(MIN_FREE_BYTES - 4096).assertDiskHasRoom()).rejects.toThrow(
      `disk full: ${MIN_FREE_BYTES - 4096} bytes free beside ${path}; writes fail until space is freed`,
    );
  });

  it('reads the free space of the real disk', async () => {
    const { freeBytes } = await new SqliteFile(path).assertDiskHasRoom();
    expect(freeBytes).toBeGreaterThanOrEqual(MIN_FREE_BYTES);
  });
});
