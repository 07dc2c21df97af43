import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
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
 * The cleanup's deletes, one bounded batch per statement, oldest first, each
 * found through an index. SQLite has no LIMIT on DELETE, so a batch is the
 * rows whose rowid a limited select names. On PostgreSQL several replicas may
 * sweep at once: they skip the runs and reports another one has locked, and
 * take turns on the oldest events.
 */
@Injectable()
export class RetentionRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {
    this.postgres = isPostgres(db);
  }

  /**
   * Removes up to `limit` runs that started before `cutoff`, oldest first: finished ones only (a
   * running or queued run is never removed), and only once no run retries them, so an attempt's
   * `retryOf` always names a run that exists; a retried run goes in a later batch than its retry.
   */
  async deleteExpiredRuns(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    const key = this.batchKey();
    const batch = this.db
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
    const rows = await this.db.deleteFrom('runs').where(key, 'in', batch).returning('started_at').execute();
    return removed(rows.map((row) => row.started_at));
  }

  /** Removes up to `limit` reports created before `cutoff`, oldest first. */
  async deleteExpiredReports(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    const key = this.batchKey();
    const batch = this.db
      .selectFrom('reports')
      .select(key.as('key'))
      .where('created_at', '<', cutoff)
      .orderBy('created_at')
      .limit(limit)
      .$if(this.postgres, (query) => query.forUpdate().skipLocked());
    const rows = await this.db.deleteFrom('reports').where(key, 'in', batch).returning('created_at').execute();
    return removed(rows.map((row) => row.created_at));
  }

  /**
   * Removes up to `limit` of the oldest events, stopping before the first one published at or after
   * `cutoff`: what stays is always every event from some id on, which is what lets a resuming client
   * tell a replay from a resync (an instant out of order, from a replica's clock, never opens a gap).
   * On PostgreSQL the batch's rows are locked in id order, so replicas delete one batch after another.
   */
  async deleteExpiredEvents(cutoff: Timestamp, limit: number): Promise<RemovedBatch> {
    const rows = await this.db
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
      .returning('at')
      .execute();
    return removed(rows.map((row) => row.at));
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
