import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, type Compilable } from 'kysely';
import { DATABASE, isPostgres } from './database.js';
import type { Database, Timestamp } from './schema.js';

/** What one batch removed: how many rows, and the span of their instants (start, creation or publication). */
export interface RemovedBatch {
  count: number;
  /** The oldest and newest instant among the removed rows; null when none was removed. */
  oldest: Timestamp | null;
  newest: Timestamp | null;
}

/**
 * Rows per delete statement on each dialect.
 *
 * SQLite's driver holds the event loop while a statement runs. What a batch costs
 * is mostly pages written: each run removed rewrites a page of every index whose
 * order is not the runs' age (`runs_job_duration_ms`, and the primary key for ids
 * that are not time-ordered), and a commit that takes the write-ahead log past
 * 1,000 pages also copies them into the file and syncs it (the automatic
 * checkpoint, 30 to 40 ms here, mostly the sync). 500 rows take 20 to 35 ms on a
 * loaded 2-core machine, plus a checkpoint every other batch or so; 250 rows did
 * not lower the longest wait measurably, and took 15% longer in all.
 *
 * PostgreSQL deletes in the server and never holds the loop: a batch is bounded
 * only to keep each transaction's locks and write-ahead log modest.
 */
export const CLEANUP_BATCH_ROWS = { sqlite: 500, postgres: 20_000 } as const;

/**
 * The cleanup's deletes, one bounded batch per statement, oldest first, each
 * found through an index. SQLite has no LIMIT on DELETE, so a batch is the
 * rows whose rowid a limited select names. On PostgreSQL several replicas may
 * sweep at once: they skip the runs and reports another one has locked, and
 * take turns on the oldest events.
 */
@Injectable()
export class RetentionRepository {
  private readonly postgres: boolean;
  /** How many rows a batch should remove on this database (see CLEANUP_BATCH_ROWS). */
  readonly batchRows: number;

  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {
    this.postgres = isPostgres(db);
    this.batchRows = CLEANUP_BATCH_ROWS[this.postgres ? 'postgres' : 'sqlite'];
  }

  /**
   * Removes up to `limit` runs that started before `cutoff`, oldest first: finished ones only (a
   * running or queued run is never removed), and only once no run retries them, so an attempt's
   * `retryOf` always names a run that exists; a retried run goes in a later batch than its retry.
   */
  deleteExpiredRuns(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    return this.inBatch(async (db) => {
      const key = this.batchKey();
      const batch = db
        .selectFrom('runs')
        .select(key.as('key'))
        .where('started_at', '<', cutoff)
        .where('status', 'not in', ['running', 'queued'])
        // NOT IN, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join, which without fresh
        // statistics (after a bulk load, or 0006 rewriting the table) it ran as a sort of every expired
        // run, each batch; NOT IN stays one look-up in runs_retry_of per run the batch reads.
        .where('runs.id', 'not in', (eb) =>
          eb.selectFrom('runs as retry').select('retry.retry_of').whereRef('retry.retry_of', '=', 'runs.id'),
        )
        .orderBy('started_at')
        .limit(limit)
        .$if(this.postgres, (query) => query.forUpdate().skipLocked());
      return this.summarize(db, db.deleteFrom('runs').where(key, 'in', batch).returning('started_at as at'));
    });
  }

  /** Removes up to `limit` reports created before `cutoff`, oldest first. */
  deleteExpiredReports(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    return this.inBatch(async (db) => {
      const key = this.batchKey();
      const batch = db
        .selectFrom('reports')
        .select(key.as('key'))
        .where('created_at', '<', cutoff)
        .orderBy('created_at')
        .limit(limit)
        .$if(this.postgres, (query) => query.forUpdate().skipLocked());
      return this.summarize(db, db.deleteFrom('reports').where(key, 'in', batch).returning('created_at as at'));
    });
  }

  /**
   * Removes up to `limit` of the oldest events, stopping before the first one published at or after
   * `cutoff`: what stays is always every event from some id on, which is what lets a resuming client
   * tell a replay from a resync (an instant out of order, from a replica's clock, never opens a gap).
   * On PostgreSQL the batch's rows are locked in id order, so replicas delete one batch after another.
   */
  deleteExpiredEvents(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    return this.inBatch(async (db) => {
      const batch = db
        // Materialized: the batch is read once, and the bound below is taken from the same rows.
        .with(
          (cte) => cte('oldest').materialized(),
          (db) =>
            db
              .selectFrom('events')
              .select(['id', 'at'])
              .orderBy('id')
              .limit(limit)
              .$if(this.postgres, (query) => query.forUpdate()),
        )
        .deleteFrom('events')
        .where('id', 'in', (db) => db.selectFrom('oldest').select('id'))
        // Below the batch's first young event or, with none, past its last.
        .where((eb) =>
          eb(
            'id',
            '<',
            eb.fn.coalesce(
              eb.selectFrom('oldest').select(eb.fn.min('id').as('id')).where('at', '>=', cutoff),
              eb.selectFrom('oldest').select(sql<number>`max(id) + 1`.as('id')),
            ),
          ),
        )
        .returning('at');
      return this.summarize(db, batch);
    });
  }

  /**
   * What a batch's delete removed. PostgreSQL counts it in the statement: the driver parsing every
   * removed row's instant held the event loop half a second for 20,000 rows. SQLite cannot put a
   * delete in a WITH, and its batches are small.
   */
  private async summarize(
    db: Kysely<Database>,
    remove: Compilable & { execute(): Promise<{ at: Timestamp }[]> },
  ): Promise<RemovedBatch> {
    if (!this.postgres) return removed((await remove.execute()).map((row) => row.at));
    const { rows } = await sql<{ count: string; oldest: Timestamp | null; newest: Timestamp | null }>`
      with removed as (${remove}) select count(*) as count, min(at) as oldest, max(at) as newest from removed
    `.execute(db);
    return { count: Number(rows[0].count), oldest: rows[0].oldest, newest: rows[0].newest };
  }

  /**
   * Runs one batch's statement. On PostgreSQL in a transaction of its own without JIT: the planner
   * prices a batch by the whole expired range (and, without statistics, by a guess at each run's
   * retries), far above `jit_above_cost`, so each batch was compiled first, which took 0.1 to 1 s
   * here, ten times what the batch itself took.
   */
  private inBatch<T>(remove: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (!this.postgres) return remove(this.db);
    return this.db.transaction().execute(async (trx) => {
      await sql`set local jit = off`.execute(trx);
      return remove(trx);
    });
  }

  /** The column a batch is named by: SQLite's rowid is its tables' own b-tree key, PostgreSQL's key the primary one. */
  private batchKey() {
    return sql<string>`${sql.raw(this.postgres ? 'id' : 'rowid')}`;
  }
}

function removed(instants: Timestamp[]): RemovedBatch {
  let oldest: Timestamp | null = null;
  let newest: Timestamp | null = null;
  for (const instant of instants) {
    if (oldest === null || instant < oldest) oldest = instant;
    if (newest === null || instant > newest) newest = instant;
  }
  return { count: instants.length, oldest, newest };
}
