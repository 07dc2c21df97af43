import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, NewRunRow, RunStatus } from '../../src/database/schema.js';

/** Rows per insert statement: within both dialects' limits on bound parameters (15 columns a run). */
const ROWS_PER_INSERT = 2_000;

/** Inserts many runs fast: a thousand rows a statement, all in one transaction (100,000 in seconds). */
export async function insertRuns(db: Kysely<Database>, rows: NewRunRow[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
      await trx
        .insertInto('runs')
        .values(rows.slice(from, from + ROWS_PER_INSERT))
        .execute();
    }
  });
}

/**
 * A run's row as the runner stores it, of job `sync`, started at `startedAt`
 * and ended a second later unless it is running or queued (then it holds a lease).
 */
export function runRow(startedAt: string, status: RunStatus, overrides: Partial<NewRunRow> = {}): NewRunRow {
  const unfinished = status === 'running' || status === 'queued';
  const finishedAt = new Date(Date.parse(startedAt) + 1000).toISOString();
  return {
    id: randomUUID(),
    job: 'sync',
    trigger: 'schedule',
    status,
    scheduled_for: startedAt,
    started_at: startedAt,
    finished_at: unfinished ? null : finishedAt,
    duration_ms: unfinished ? null : 1000,
    error: null,
    attempt: 1,
    max_attempts: 1,
    retry_of: null,
    lease_expires_at: unfinished ? '2099-01-01T00:00:00.000Z' : null,
    node: 'node-a',
    claim_key: null,
    ...overrides,
  };
}

/** `count` instants evenly spread over [from, to), oldest first. */
export function instantsBetween(from: string, to: string, count: number): string[] {
  const start = Date.parse(from);
  const step = (Date.parse(to) - start) / count;
  return Array.from({ length: count }, (_, i) => new Date(start + Math.floor(i * step)).toISOString());
}
