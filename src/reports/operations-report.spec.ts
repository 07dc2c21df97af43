import { makeRun } from '../../test/support/factories.js';
import { statusCounts } from '../../test/support/run-counts.js';
import type { Run } from '../database/runs.repository.js';
import type { RunStatus } from '../database/schema.js';
import { percentile, summarizeOperations } from './operations-report.js';

describe('percentile', () => {
  const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('takes the nearest rank of ten values', () => {
    expect(percentile(oneToTen, 50)).toBe(5);
    expect(percentile(oneToTen, 95)).toBe(10);
    expect(percentile(oneToTen, 90)).toBe(9);
    expect(percentile(oneToTen, 91)).toBe(10);
    expect(percentile(oneToTen, 10)).toBe(1);
    expect(percentile(oneToTen, 11)).toBe(2);
    expect(percentile(oneToTen, 100)).toBe(10);
  });

  it('takes the first value at p = 0', () => {
    expect(percentile(oneToTen, 0)).toBe(1);
  });

  it('rounds the rank up for uneven counts', () => {
    // 3 values: p50 -> rank ceil(1.5) = 2; p95 -> rank ceil(2.85) = 3; p33 -> rank ceil(0.99) = 1.
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([10, 20, 30], 95)).toBe(30);
    expect(percentile([10, 20, 30], 33)).toBe(10);
  });

  it('returns the value itself for a single value', () => {
    expect(percentile([42], 0)).toBe(42);
    expect(percentile([42], 50)).toBe(42);
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([42], 100)).toBe(42);
  });

  it('throws on no values', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('summarizeOperations', () => {
  let sequence = 0;
  function run(job: string, status: RunStatus, durationMs: number | null, error: string | null = null): Run {
    sequence += 1;
    const startedAt = new Date(Date.UTC(2025, 0, 1, 8, 0, sequence)).toISOString();
    const finished = status !== 'running' && status !== 'queued';
    return makeRun({
      id: `run-${sequence}`,
      job,
      status,
      startedAt,
      finishedAt: finished ? startedAt : null,
      durationMs,
      error,
    });
  }

  const periodStart = new Date('2025-01-01T07:00:00.000Z');
  const periodEnd = new Date('2025-01-02T07:00:00.000Z');
  /** The job summaries of `runs`, with no events and no clients. */
  const jobsOf = (runs: Run[]) =>
    summarizeOperations({ periodStart, periodEnd, runs, eventsByTopic: {}, peakConnectedClients: 0 }).jobs;

  it('reports the period as ISO strings and passes the peak of connected clients through', () => {
    const report = summarizeOperations({
      periodStart,
      periodEnd,
      runs: [],
      eventsByTopic: {},
      peakConnectedClients: 7,
    });

    expect(report.period).toEqual({ start: '2025-01-01T07:00:00.000Z', end: '2025-01-02T07:00:00.000Z' });
    expect(report.clients).toEqual({ peakConnected: 7 });
    expect(report.jobs).toEqual([]);
    expect(report.events).toEqual({ total: 0, byTopic: {} });
  });

  it('counts runs per job and status, with totals', () => {
    const runs = [
      run('cleanup', 'succeeded', 10),
      run('daily-report', 'succeeded', 100),
      run('cleanup', 'failed', 20, 'disk full'),
      run('cleanup', 'skipped', 0, 'skipped: run x of cleanup is still running'),
      run('cleanup', 'running', null),
      run('cleanup', 'succeeded', 30),
    ];

    const report = summarizeOperations({ periodStart, periodEnd, runs, eventsByTopic: {}, peakConnectedClients: 0 });

    expect(report.jobs.map((job) => [job.job, job.runs])).toEqual([
      ['cleanup', statusCounts({ running: 1, succeeded: 2, failed: 1, skipped: 1, total: 5 })],
      ['daily-report', statusCounts({ succeeded: 1, total: 1 })],
    ]);
  });

  it('counts every status, including queued, timed out, interrupted and abandoned runs', () => {
    const runs = [
      run('sync', 'queued', null),
      run('sync', 'timed_out', 50, 'timed out after 50 ms'),
      run('sync', 'timed_out', 60, 'timed out after 50 ms'),
      run('sync', 'interrupted', 70, 'interrupted at shutdown'),
      run('sync', 'abandoned', null, 'lease expired'),
      run('sync', 'succeeded', 10),
    ];

    const [sync] = jobsOf(runs);

    expect(sync.runs).toEqual(
      statusCounts({ queued: 1, timed_out: 2, interrupted: 1, abandoned: 1, succeeded: 1, total: 6 }),
    );
  });

  it('computes p50/p95/max over runs that ended with a duration, ignoring running, queued and skipped runs', () => {
    const runs = [
      run('sync', 'succeeded', 400),
      run('sync', 'failed', 100, 'boom'),
      run('sync', 'skipped', 0, 'skipped'),
      run('sync', 'running', 5000),
      run('sync', 'succeeded', 300),
      run('sync', 'succeeded', 200),
      run('sync', 'skipped', 9000, 'skipped'),
      run('sync', 'queued', 8000),
    ];

    const [sync] = jobsOf(runs);

    // Finished durations sorted: [100, 200, 300, 400]; p50 rank ceil(2) = 2 -> 200; p95 rank ceil(3.8) = 4 -> 400.
    expect(sync.durationMs).toEqual({ p50: 200, p95: 400, max: 400 });
  });

  it('takes timed-out and interrupted runs into the durations, and leaves out an abandoned run without one', () => {
    const runs = [
      run('sync', 'succeeded', 100),
      run('sync', 'timed_out', 900, 'timed out after 900 ms'),
      run('sync', 'interrupted', 500, 'interrupted at shutdown'),
      run('sync', 'abandoned', null, 'lease expired'),
    ];

    const [sync] = jobsOf(runs);

    // Durations [100, 500, 900]: p50 rank ceil(1.5) = 2 -> 500; p95 rank 3 -> 900.
    expect(sync.durationMs).toEqual({ p50: 500, p95: 900, max: 900 });
  });

  it('takes the durations of ten finished runs in any order', () => {
    const durations = [70, 10, 100, 40, 90, 20, 60, 30, 80, 50];
    const runs = durations.map((ms) => run('sync', 'succeeded', ms));

    const [sync] = jobsOf(runs);

    expect(sync.durationMs).toEqual({ p50: 50, p95: 100, max: 100 });
  });

  it('reports no duration statistics when no run of a job finished', () => {
    const runs = [run('sync', 'running', null), run('sync', 'skipped', 0, 'skipped'), run('sync', 'queued', null)];

    const [sync] = jobsOf(runs);

    expect(sync.durationMs).toBeNull();
    expect(sync.runs.total).toBe(3);
  });

  it('lists the failures of each job with run id, status, start and error', () => {
    const ok = run('sync', 'succeeded', 5);
    const first = run('sync', 'failed', 6, 'timeout');
    const second = run('sync', 'failed', 7, 'connection refused');
    const other = run('other', 'failed', 8, 'bad input');

    const report = summarizeOperations({
      periodStart,
      periodEnd,
      runs: [ok, first, second, other],
      eventsByTopic: {},
      peakConnectedClients: 0,
    });

    const sync = report.jobs.find((job) => job.job === 'sync');
    const otherJob = report.jobs.find((job) => job.job === 'other');
    expect(sync?.failures).toEqual([
      { runId: first.id, status: 'failed', startedAt: first.startedAt, error: 'timeout' },
      { runId: second.id, status: 'failed', startedAt: second.startedAt, error: 'connection refused' },
    ]);
    expect(otherJob?.failures).toEqual([
      { runId: other.id, status: 'failed', startedAt: other.startedAt, error: 'bad input' },
    ]);
  });

  it('lists timed-out, interrupted and abandoned runs as failures with their status, in order', () => {
    const runs = [
      run('sync', 'timed_out', 50, 'timed out after 50 ms'),
      run('sync', 'succeeded', 5),
      run('sync', 'skipped', 0, 'skipped: run x of sync is still running'),
      run('sync', 'queued', null),
      run('sync', 'running', null),
      run('sync', 'interrupted', 70, 'interrupted at shutdown'),
      run('sync', 'failed', 6, 'boom'),
      run('sync', 'abandoned', null, 'lease expired'),
    ];

    const [sync] = jobsOf(runs);

    expect(sync.failures).toEqual([
      { runId: runs[0].id, status: 'timed_out', startedAt: runs[0].startedAt, error: 'timed out after 50 ms' },
      { runId: runs[5].id, status: 'interrupted', startedAt: runs[5].startedAt, error: 'interrupted at shutdown' },
      { runId: runs[6].id, status: 'failed', startedAt: runs[6].startedAt, error: 'boom' },
      { runId: runs[7].id, status: 'abandoned', startedAt: runs[7].startedAt, error: 'lease expired' },
    ]);
  });

  it('sorts jobs by name', () => {
    const runs = [
      run('zeta', 'succeeded', 1),
      run('alpha', 'succeeded', 1),
      run('mid', 'succeeded', 1),
      run('alpha', 'failed', 1),
    ];

    const report = summarizeOperations({ periodStart, periodEnd, runs, eventsByTopic: {}, peakConnectedClients: 0 });

    expect(report.jobs.map((job) => job.job)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('totals the events and keeps the counts by topic', () => {
    const report = summarizeOperations({
      periodStart,
      periodEnd,
      runs: [],
      eventsByTopic: { jobs: 12, reports: 1, system: 3 },
      peakConnectedClients: 0,
    });

    expect(report.events).toEqual({ total: 16, byTopic: { jobs: 12, reports: 1, system: 3 } });
  });
});
