import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { DATABASE } from './database.js';
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
}

export type RunOutcome = Pick<Run, 'status' | 'finishedAt' | 'durationMs' | 'error'>;

export interface Page {
  limit: number;
  /** ISO-8601 instant: only items strictly older than it. */
  before?: string;
}

@Injectable()
export class RunsRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** `leaseUntil` is set for a running run: past it, the run counts as abandoned unless renewed. */
  async insert(run: Run, leaseUntil: string | null = null): Promise<void> {
    await this.db
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
      })
      .execute();
  }

  /** A queued run begins. */
  async begin(id: string, startedAt: string, leaseUntil: string): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ status: 'running', started_at: startedAt, lease_expires_at: leaseUntil })
      .where('id', '=', id)
      .execute();
  }

  async renewLeases(ids: string[], leaseUntil: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseUntil })
      .where('id', 'in', ids)
      .where('status', 'in', ['running', 'queued'])
      .execute();
  }

  async finish(id: string, outcome: RunOutcome): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({
        status: outcome.status,
        finished_at: outcome.finishedAt,
        duration_ms: outcome.durationMs,
        error: outcome.error,
        lease_expires_at: null,
      })
      .where('id', '=', id)
      .execute();
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
  };
}
