import type { RemovedBatch } from '../../database/retention.repository.js';
import { retentionCutoffs, sweep, sweptShare, type RemoveBatch } from './retention.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

describe('retentionCutoffs', () => {
  const now = new Date('2025-06-15T12:34:56.789Z');

  it('puts the run cutoff 30 days, the report cutoff 90 days and the event cutoff 24 hours before now', () => {
    const cutoffs = retentionCutoffs(now, { runDays: 30, reportDays: 90, eventHours: 24 });

    // 2025-06-15 minus 30 days: 15 days back to May 31, 15 more to May 16.
    expect(cutoffs.runs.toISOString()).toBe('2025-05-16T12:34:56.789Z');
    // minus 90 days: 15 (to May 31) + 31 (to Apr 30) + 30 (to Mar 31) + 14 = Mar 17.
    expect(cutoffs.reports.toISOString()).toBe('2025-03-17T12:34:56.789Z');
    expect(cutoffs.events.toISOString()).toBe('2025-06-14T12:34:56.789Z');
  });

  it('uses each retention independently', () => {
    const cutoffs = retentionCutoffs(now, { runDays: 1, reportDays: 2, eventHours: 3 });

    expect(cutoffs.runs.toISOString()).toBe('2025-06-14T12:34:56.789Z');
    expect(cutoffs.reports.toISOString()).toBe('2025-06-13T12:34:56.789Z');
    expect(cutoffs.events.toISOString()).toBe('2025-06-15T09:34:56.789Z');
  });

  it('does not modify the instant it is given', () => {
    retentionCutoffs(now, { runDays: 30, reportDays: 90, eventHours: 24 });
    expect(now.toISOString()).toBe('2025-06-15T12:34:56.789Z');
  });

  it('counts elapsed 24-hour spans across the spring DST change, not calendar days', () => {
    // Europe/Berlin switched from CET (+01:00) to CEST (+02:00) on 2025-03-30 at 01:00 UTC.
    const afterSpringChange = new Date('2025-03-30T12:00:00.000Z'); // 14:00 in Berlin
    const cutoffs = retentionCutoffs(afterSpringChange, { runDays: 1, reportDays: 30, eventHours: 24 });

    expect(afterSpringChange.getTime() - cutoffs.runs.getTime()).toBe(DAY);
    expect(afterSpringChange.getTime() - cutoffs.reports.getTime()).toBe(30 * DAY);
    expect(afterSpringChange.getTime() - cutoffs.events.getTime()).toBe(24 * HOUR);
    expect(cutoffs.runs.toISOString()).toBe('2025-03-29T12:00:00.000Z');
    expect(cutoffs.reports.toISOString()).toBe('2025-02-28T12:00:00.000Z');
    // One elapsed day before 14:00 CEST is 13:00 CET on the wall clock.
    expect(berlinHour(cutoffs.runs)).toBe(13);
  });

  it('counts elapsed 24-hour spans across the autumn DST change', () => {
    // Europe/Berlin switched back from CEST to CET on 2025-10-26 at 01:00 UTC.
    const afterAutumnChange = new Date('2025-10-27T06:00:00.000Z'); // 07:00 in Berlin
    const cutoffs = retentionCutoffs(afterAutumnChange, { runDays: 2, reportDays: 90, eventHours: 48 });

    expect(afterAutumnChange.getTime() - cutoffs.runs.getTime()).toBe(2 * DAY);
    expect(afterAutumnChange.getTime() - cutoffs.reports.getTime()).toBe(90 * DAY);
    expect(cutoffs.events.getTime()).toBe(cutoffs.runs.getTime());
    expect(cutoffs.runs.toISOString()).toBe('2025-10-25T06:00:00.000Z');
    expect(berlinHour(cutoffs.runs)).toBe(8);
  });
});

describe('sweep', () => {
  /** A table of `expired` rows, removed oldest first, `limit` at a time; `log` records each batch and each turn of the loop. */
  function table(expired: number, log: string[] = []): { removeBatch: RemoveBatch; limits: number[] } {
    let left = expired;
    const limits: number[] = [];
    const removeBatch: RemoveBatch = (limit) => {
      limits.push(limit);
      const count = Math.min(limit, left);
      left -= count;
      log.push(`batch of ${count}`);
      // Whatever the batch let wait on the loop (a request, a timer) asks for its turn now.
      setImmediate(() => log.push('turn of the loop'));
      return Promise.resolve(batchOf(count));
    };
    return { removeBatch, limits };
  }

  function batchOf(count: number): RemovedBatch {
    return count === 0
      ? { count, oldest: null, newest: null }
      : { count, oldest: '2025-01-01T00:00:00.000Z', newest: '2025-01-02T00:00:00.000Z' };
  }

  const signal = new AbortController().signal;

  it('removes batches of the given size until one removes nothing, and resolves the total', async () => {
    const { removeBatch, limits } = table(2_500);

    await expect(sweep(removeBatch, { batchSize: 1_000, signal })).resolves.toBe(2_500);
    expect(limits).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('goes on after a short batch: a retried run can only go once its retry has', async () => {
    const counts = [1_000, 300, 2, 0];
    const removeBatch: RemoveBatch = () => Promise.resolve(batchOf(counts.shift()!));

    await expect(sweep(removeBatch, { batchSize: 1_000, signal })).resolves.toBe(1_302);
    expect(counts).toEqual([]);
  });

  it('lets the event loop take a turn after every batch that removed rows', async () => {
    const log: string[] = [];
    const { removeBatch } = table(2_000, log);

    await sweep(removeBatch, { batchSize: 1_000, signal });

    expect(log).toEqual(['batch of 1000', 'turn of the loop', 'batch of 1000', 'turn of the loop', 'batch of 0']);
  });

  it('tells afterBatch the total so far and the batch, after each batch that removed rows', async () => {
    const { removeBatch } = table(1_500);
    const told: [number, number][] = [];

    await sweep(removeBatch, {
      batchSize: 1_000,
      signal,
      afterBatch: (removedSoFar, batch) => Promise.resolve(void told.push([removedSoFar, batch.count])),
    });

    expect(told).toEqual([
      [1_000, 1_000],
      [1_500, 500],
    ]);
  });

  it('starts no batch once the signal is aborted, and rejects with its reason', async () => {
    const controller = new AbortController();
    const { removeBatch, limits } = table(5_000);
    const reason = new Error('timed out after 60000 ms');

    const swept = sweep(removeBatch, {
      batchSize: 1_000,
      signal: controller.signal,
      afterBatch: () => Promise.resolve(controller.abort(reason)),
    });

    await expect(swept).rejects.toBe(reason);
    expect(limits).toEqual([1_000]);
  });

  it('removes nothing when the signal was aborted before it began', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const { removeBatch, limits } = table(5_000);

    await expect(sweep(removeBatch, { batchSize: 1_000, signal: controller.signal })).rejects.toThrow('shutting down');
    expect(limits).toEqual([]);
  });
});

describe('sweptShare', () => {
  const cutoff = new Date('2025-06-11T00:00:00.000Z');

  it('is the share of the span from the oldest expired row to the cutoff that lies behind the newest removed', () => {
    expect(sweptShare('2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', cutoff)).toBe(0);
    expect(sweptShare('2025-06-01T00:00:00.000Z', '2025-06-03T12:00:00.000Z', cutoff)).toBe(0.25);
    expect(sweptShare('2025-06-01T00:00:00.000Z', '2025-06-10T23:59:59.999Z', cutoff)).toBeCloseTo(1, 6);
  });

  it('stays between 0 and 1 when rows lie outside the span, as an instant from a replica with a skewed clock may', () => {
    expect(sweptShare('2025-06-01T00:00:00.000Z', '2025-06-12T00:00:00.000Z', cutoff)).toBe(1);
    expect(sweptShare('2025-06-11T00:00:00.000Z', '2025-06-11T00:00:00.000Z', cutoff)).toBe(1);
  });
});

function berlinHour(date: Date): number {
  return Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false }).format(date),
  );
}
