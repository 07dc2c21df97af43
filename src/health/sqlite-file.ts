import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isPostgresUrl, sqliteFileFromUrl } from '../database/database.js';

/** Below this, SQLite cannot grow its write-ahead log by the pages of a run and its events: the disk is full for us. */
export const MIN_FREE_BYTES = 1024 * 1024;

/** The file-system calls the checks make; specs pass their own. */
export interface FileSystemPort {
  stat(path: string): Promise<{ dev: number; ino: number }>;
  statfs(path: string): Promise<{ bavail: number; bsize: number }>;
}

/**
 * The SQLite file this process opened. SQLite keeps writing to an open file
 * that was deleted or replaced, and those writes are lost when the process
 * exits; a full disk fails every write. Queries show neither, so both are read
 * from the file system.
 */
export class SqliteFile {
  private opened?: { dev: number; ino: number };

  constructor(
    readonly path: string,
    private readonly fs: FileSystemPort = { stat, statfs },
  ) {}

  /** The file of a `sqlite:` DATABASE_URL; none for PostgreSQL or an in-memory database. */
  static of(databaseUrl: string): SqliteFile | undefined {
    if (isPostgresUrl(databaseUrl)) return undefined;
    const file = sqliteFileFromUrl(databaseUrl);
    return file === ':memory:' ? undefined : new SqliteFile(resolve(file));
  }

  /** Notes which file is open; call it once the database has opened it. */
  async remember(): Promise<void> {
    const { dev, ino } = await this.fs.stat(this.path);
    this.opened = { dev, ino };
  }

  /** Rejects, saying what happened, once the path no longer leads to the file that was opened. */
  async assertStillOpened(): Promise<void> {
    const current = await this.fs.stat(this.path).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? this.writesLost('was deleted') : error;
    });
    if (current.dev !== this.opened?.dev || current.ino !== this.opened?.ino) {
      throw this.writesLost('was replaced by another file');
    }
  }

  /** The free space beside the file; rejects when the disk is full. */
  async assertDiskHasRoom(): Promise<{ freeBytes: number }> {
    const { bavail, bsize } = await this.fs.statfs(dirname(this.path));
    const freeBytes = bavail * bsize;
    if (freeBytes < MIN_FREE_BYTES) {
      throw new Error(`disk full: ${freeBytes} bytes free beside ${this.path}; writes fail until space is freed`);
    }
    return { freeBytes };
  }

  private writesLost(happened: string): Error {
    return new Error(
      `the SQLite file ${this.path} ${happened} after it was opened: what is written now goes to the opened file and is lost when the process exits`,
    );
  }
}
