import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import type SqliteDatabase from 'better-sqlite3';

/** SQLite's own default: a commit that takes the write-ahead log past this many pages checkpoints it. */
const AUTOMATIC_CHECKPOINT_PAGES = 1000;

/** How often the worker looks for commits to checkpoint: short enough that the log stays a few batches long. */
const POLL_MS = 10;

/**
 * A log this long after a complete checkpoint was never restarted from its beginning (a reader kept an old
 * snapshot while writes went on): the worker truncates it, so the file shrinks back (4,000 pages, 16 MiB).
 */
const TRUNCATE_AFTER_PAGES = 4000;

/**
 * The worker, CommonJS run with `eval` so that it loads the same way from src/ under Jest and from dist/.
 * Its connection never waits for a lock (timeout 0): a checkpoint that finds one busy is retried next poll.
 * `data_version` changes only when another connection commits, so an idle database costs a pragma a poll.
 * What it throws is rethrown as a plain Error: a SqliteError would reach the main thread without its message.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
function reported(step) {
  try {
    return step();
  } catch (error) {
    throw new Error(error.code ? error.code + ': ' + error.message : error.message);
  }
}
const db = reported(() => new Database(workerData.file, { fileMustExist: true, timeout: 0 }));
let seenVersion;
let caughtUp = true;
function checkpoint() {
  const version = db.pragma('data_version', { simple: true });
  if (version === seenVersion && caughtUp) return;
  seenVersion = version;
  const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
  caughtUp = checkpointed === log;
  if (caughtUp && log > workerData.truncateAfterPages) db.pragma('wal_checkpoint(TRUNCATE)');
}
const poll = setInterval(() => reported(checkpoint), workerData.pollMs);
parentPort.once('message', () => {
  clearInterval(poll);
  db.close();
  parentPort.close();
});
`;

const sqliteDriver = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Checkpoints a SQLite file's write-ahead log from a worker thread with a connection of its own. SQLite's
 * automatic checkpoint runs inside the commit that passes 1,000 pages, copying pages to the database file
 * and syncing it (30 to 40 ms), and better-sqlite3 runs that commit on the event loop. With this worker,
 * the main connection's automatic checkpoint is off; if the worker dies, it is logged and turned back on.
 */
export class WalCheckpointer {
  private readonly logger = new Logger(WalCheckpointer.name);
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    sqlite.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: sqliteDriver,
        file: sqlite.name,
        pollMs: POLL_MS,
        truncateAfterPages: TRUNCATE_AFTER_PAGES,
      },
    });
    // Never what keeps a process alive: the app's shutdown stops it, and a process that ends without stops it too.
    this.worker.unref();
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        if (!this.stopping) this.fail(new Error(`the checkpoint worker exited with code ${code}`));
        resolve();
      }),
    );
  }

  /** Resolves once the worker has closed its connection and exited: close the main connection after. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.worker.postMessage('stop');
    }
    await this.exited;
  }

  private fail(error: Error): void {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.error({
      msg: 'WAL checkpoint worker failed: commits checkpoint the SQLite file themselves again',
      file: this.sqlite.name,
      error: error.message,
    });
    if (this.sqlite.open) this.sqlite.pragma(`wal_autocheckpoint = ${AUTOMATIC_CHECKPOINT_PAGES}`);
  }
}
