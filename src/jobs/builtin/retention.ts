import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RemovedBatch } from '../../database/retention.repository.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface Retention {
  runDays: number;
  reportDays: number;
  eventHours: number;
}

export interface RetentionCutoffs {
  runs: Date;
  reports: Date;
  events: Date;
}

/**
 * Everything older than its cutoff is removed. Days are 24-hour spans of
 * elapsed time, not calendar days, so daylight-saving changes do not move a cutoff.
 */
export function retentionCutoffs(now: Date, retention: Retention): RetentionCutoffs {
  const before = (ms: number) => new Date(now.getTime() - ms);
  return {
    runs: before(retention.runDays * DAY_MS),
    reports: before(retention.reportDays * DAY_MS),
    events: before(retention.eventHours * HOUR_MS),
  };
}

/** Removes up to `limit` expired rows of one table, oldest first. */
export type RemoveBatch = (limit: number) => Promise<RemovedBatch>;

export interface SweepOptions {
  batchSize: number;
  /** Aborted at the cleanup's timeout or at shutdown: no batch starts after it. */
  signal: AbortSignal;
  /** Told after each batch that removed rows, with the number removed so far. */
  afterBatch?: (removedSoFar: number, batch: RemovedBatch) => Promise<void>;
}

/**
 * Removes expired rows a batch at a time until a batch removes none, and
 * resolves how many went. Between batches it lets the event loop take a turn
 * (SQLite's driver is synchronous: one statement for the whole backlog held
 * every request, socket and lease for seconds), and once `signal` is aborted
 * it rejects with its reason instead of starting another batch.
 */
export async function sweep(
  removeBatch: RemoveBatch,
  { batchSize, signal, afterBatch }: SweepOptions,
): Promise<number> {
  let removed = 0;
  for (;;) {
    signal.throwIfAborted();
    const batch = await removeBatch(batchSize);
    if (batch.count === 0) return removed;
    removed += batch.count;
    await afterBatch?.(removed, batch);
    await nextTurn();
  }
}

/**
 * How far a sweep has come, from 0 to 1: the share of the span from the
 * oldest expired row to the cutoff that lies at or before the newest row
 * removed. Rows go oldest first, so it grows with each batch without the
 * count of expired rows, which would take a read of all of them.
 */
export function sweptShare(oldest: string, newest: string, cutoff: Date): number {
  const span = cutoff.getTime() - Date.parse(oldest);
  if (span <= 0) return 1;
  return Math.min(1, Math.max(0, (Date.parse(newest) - Date.parse(oldest)) / span));
}
