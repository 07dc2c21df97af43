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

  async insert(run: Run): Promise<void> {
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
      })
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
      })
      .where('id', '=', id)
      .execute();
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

  /** Deletes finished runs that started before `cutoff`; a run still in progress is never removed. */
  async deleteFinishedBefore(cutoff: string): Promise<number> {
    const result = await this.db
      .deleteFrom('runs')
      .where('started_at', '<', cutoff)
      .where('status', '!=', 'running')
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
  };
}
