import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import type SqliteDatabase from 'better-sqlite3';

/** SQLite's own default: a commit that takes the write-ahead log past this many pages checkpoints it. */
const AUTOMATIC_CHECKPOINT_PAGES = 1000;

/** How soon the worker looks again after a commit: short enough that the log stays a few batches long. */
const BUSY_POLL_MS = 10;

/**
 * The longest it waits while nothing is committed, doubling from BUSY_POLL_MS: each wake-up of a thread costs
 * about 0.15 ms of CPU on a loaded 2-core machine, 16 ms a second at 10 ms, 1 ms at 200 ms.
 */
const IDLE_POLL_MS = 200;

/**
 * The main connection's automatic checkpoint, kept as a bound. A connection that starts writing while frames
 * wait to be copied appends to the log instead of writing it from its beginning again, and back-to-back
 * writes (cleanup batches) leave the worker no moment to finish first: the log would grow without end. Past
 * this many pages a commit checkpoints what the worker has not copied yet (a batch's pages and a sync), and
 * the next write starts the log again. SQLite's own default is 1,000: this is a tenth as often.
 */
const LOG_BOUND_PAGES = 10_000;

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
const dataVersion = db.prepare('pragma data_version').pluck();
let seenVersion;
let caughtUp = true;
/** Whether there was anything to do. */
function checkpoint() {
  const version = dataVersion.get();
  if (version === seenVersion && caughtUp) return false;
  seenVersion = version;
  const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
  caughtUp = checkpointed === log;
  return true;
}
let delay = workerData.busyPollMs;
let poll;
function schedule() {
  poll = setTimeout(() => {
    delay = reported(checkpoint) ? workerData.busyPollMs : Math.min(2 * delay, workerData.idlePollMs);
    schedule();
  }, delay);
}
schedule();
parentPort.once('message', () => {
  clearTimeout(poll);
  db.close();
  parentPort.close();
});
`;

const sqliteDriver = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Checkpoints a SQLite file's write-ahead log from a worker thread with a connection of its own. SQLite's
 * automatic checkpoint runs inside the commit that passes 1,000 pages, copying pages to the database file
 * and syncing it (30 to 40 ms), and better-sqlite3 runs that commit on the event loop. With this worker,
 * the main connection's automatic checkpoint waits for LOG_BOUND_PAGES, and finds most pages copied already;
 * if the worker dies, it is logged and the automatic checkpoint goes back to SQLite's default.
 */
export class WalCheckpointer {
  private readonly logger = new Logger(WalCheckpointer.name);
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    sqlite.pragma(`wal_autocheckpoint = ${LOG_BOUND_PAGES}`);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: sqliteDriver,
        file: sqlite.name,
        busyPollMs: BUSY_POLL_MS,
        idlePollMs: IDLE_POLL_MS,
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
      // Referenced while it stops: a process awaiting an unreferenced worker's exit, and nothing else, would end.
      this.worker.ref();
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
