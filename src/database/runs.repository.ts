import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, type Transaction } from 'kysely';
import type { Page } from '../common/page.js';
import { DATABASE, isPostgres } from './database.js';
import type { Database, RunRow, RunStatus, RunTrigger } from './schema.js';

/** A run as the API serves it and the runner records it. */
export interface Run {
  id: string;
  job: string;
  trigger: RunTrigger;
  status: RunStatus;
  scheduledFor: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** 1 for the first try; each automatic retry is a run of its own with the next number. */
  attempt: number;
  maxAttempts: number;
  /** The run this one retries (the previous attempt, or the run retried by hand). */
  retryOf: string | null;
  /** The replica that ran (or queued) it: its NODE_ID. */
  node: string | null;
}

export interface InsertOptions {
  /** Set while the run is running or queued: past it, the run counts as abandoned unless renewed. */
  leaseUntil?: string | null;
  /** Makes the insert a claim: a second run with the same key, from any replica, is not inserted. */
  claimKey?: string | null;
  /** A start-up run: not inserted if the job already has one that started at or after this instant. */
  noStartupSince?: string;
}

/**
 * Why a run was not inserted: its claim was taken (another replica recorded
 * this tick, or a start-up run), or the job already has a running run (or,
 * for a queued one, a queued run) somewhere in the cluster.
 */
export type InsertConflict = 'claimed' | 'busy';

export type RunOutcome = Pick<Run, 'status' | 'finishedAt' | 'durationMs' | 'error'>;

@Injectable()
export class RunsRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /**
   * Inserts the run unless that conflicts with another replica's: the
   * database's unique indexes decide (one claim per key, one running and one
   * queued run per job), so replicas racing for the same tick cannot both win.
   */
  async insert(run: Run, options: InsertOptions = {}): Promise<InsertConflict | undefined> {
    if (options.noStartupSince === undefined) return this.insertWith(this.db, run, options);
    const since = options.noStartupSince;
    return this.db.transaction().execute(async (trx) => {
      // Serializes replicas starting together; SQLite's single connection already does.
      if (isPostgres(this.db)) await sql`select pg_advisory_xact_lock(hashtext(${`startup:${run.job}`}))`.execute(trx);
      const recent = await trx
        .selectFrom('runs')
        .select('id')
        .where('job', '=', run.job)
        .where('trigger', '=', 'startup')
        .where('started_at', '>=', since)
        .executeTakeFirst();
      return recent ? 'claimed' : this.insertWith(trx, run, options);
    });
  }

  private async insertWith(
    db: Kysely<Database> | Transaction<Database>,
    run: Run,
    { leaseUntil = null, claimKey = null }: InsertOptions,
  ): Promise<InsertConflict | undefined> {
    const result = await db
      .insertInto('runs')
      .values({
        id: run.id,
        job: run.job,
        trigger: run.trigger,
        status: run.status,
        scheduled_for: run.scheduledFor,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        duration_ms: run.durationMs,
        error: run.error,
        attempt: run.attempt,
        max_attempts: run.maxAttempts,
        retry_of: run.retryOf,
        lease_expires_at: leaseUntil,
        node: run.node,
        claim_key: claimKey,
      })
      .onConflict((conflict) => conflict.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return undefined;
    if (claimKey !== null) {
      const claimed = await db.selectFrom('runs').select('id').where('claim_key', '=', claimKey).executeTakeFirst();
      if (claimed) return 'claimed';
    }
    return 'busy';
  }

  /**
   * A queued run begins on `node`, unless a run of its job is running (the
   * one-running-per-job index refuses it): resolves `busy` then, or `gone`
   * if the run is no longer queued (its lease expired and it was abandoned).
   */
  async begin(run: Run, leaseUntil: string): Promise<'begun' | 'busy' | 'gone'> {
    try {
      const result = await this.db
        .updateTable('runs')
        .set({ status: 'running', started_at: run.startedAt, lease_expires_at: leaseUntil, node: run.node })
        .where('id', '=', run.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? 'begun' : 'gone';
    } catch (error) {
      if (isUniqueViolation(error)) return 'busy';
      throw error;
    }
  }

  /** The id of the job's running run, on any replica. */
  async runningRunOf(job: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('job', '=', job)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return row?.id;
  }

  /**
   * Renews the leases of the running and queued runs among `ids`, and returns
   * the ids of those another replica has meanwhile marked abandoned (their
   * lease expired while this process could not reach the database).
   */
  async renewLeases(ids: string[], leaseUntil: string): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseUntil })
      .where('id', 'in', ids)
      .where('status', 'in', ['running', 'queued'])
      .execute();
    const lost = await this.db
      .selectFrom('runs')
      .select('id')
      .where('id', 'in', ids)
      .where('status', '=', 'abandoned')
      .execute();
    return lost.map((row) => row.id);
  }

  /**
   * Records how a running or queued run ended; resolves false, recording
   * nothing, if the run no longer is (another replica marked it abandoned).
   */
  async finish(id: string, outcome: RunOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({
        status: outcome.status,
        finished_at: outcome.finishedAt,
        duration_ms: outcome.durationMs,
        error: outcome.error,
        lease_expires_at: null,
      })
      .where('id', '=', id)
      .where('status', 'in', ['running', 'queued'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Marks running and queued runs whose lease expired before `now` as
   * abandoned (the process holding them stopped) and returns them;
   * `activeIds` are this process's own runs, which are never taken.
   */
  async abandonExpired(now: string, activeIds: string[]): Promise<Run[]> {
    let query = this.db
      .updateTable('runs')
      .set({
        status: 'abandoned',
        finished_at: now,
        error: 'lease expired: the process running it stopped',
        lease_expires_at: null,
      })
      .where('status', 'in', ['running', 'queued'])
      .where('lease_expires_at', '<', now);
    if (activeIds.length > 0) query = query.where('id', 'not in', activeIds);
    const rows = await query.returningAll().execute();
    return rows.map(toRun);
  }

  /** Whether a tick (or its catch-up) was already run, skipped or queued for this fire time. */
  async existsForFireTime(job: string, scheduledFor: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('job', '=', job)
      .where('scheduled_for', '=', scheduledFor)
      .where('trigger', 'in', ['schedule', 'catch-up'])
      .executeTakeFirst();
    return row !== undefined;
  }

  async findById(id: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row);
  }

  /** Newest first. */
  async listByJob(job: string, page: Page): Promise<Run[]> {
    let query = this.db.selectFrom('runs').selectAll().where('job', '=', job);
    if (page.before) query = query.where('started_at', '<', page.before);
    const rows = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toRun);
  }

  async latestByJob(job: string): Promise<Run | undefined> {
    const [run] = await this.listByJob(job, { limit: 1 });
    return run;
  }

  /** Runs that started in [from, to), oldest first. */
  async listStartedBetween(from: string, to: string): Promise<Run[]> {
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('started_at', '>=', from)
      .where('started_at', '<', to)
      .orderBy('started_at')
      .execute();
    return rows.map(toRun);
  }

  /** Deletes finished runs that started before `cutoff`; a run in progress or waiting to start is never removed. */
  async deleteFinishedBefore(cutoff: string): Promise<number> {
    const result = await this.db
      .deleteFrom('runs')
      .where('started_at', '<', cutoff)
      .where('status', 'not in', ['running', 'queued'])
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    job: row.job,
    trigger: row.trigger,
    status: row.status,
    scheduledFor: row.scheduled_for,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    retryOf: row.retry_of,
    node: row.node,
  };
}

/** PostgreSQL's unique_violation, or SQLite's unique constraint error. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
