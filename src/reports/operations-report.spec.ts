import { makeRun } from '../../test/support/factories.js';
import { statusCounts } from '../../test/support/run-counts.js';
import type { JobRunsSummary } from '../database/runs.repository.js';
import { summarizeOperations } from './operations-report.js';

describe('summarizeOperations', () => {
  const periodStart = new Date('2025-01-01T07:00:00.000Z');
  const periodEnd = new Date('2025-01-02T07:00:00.000Z');

  /** A job's summary as the runs repository gives it: no durations and no failures unless told. */
  function summary(job: string, overrides: Partial<JobRunsSummary> = {}): JobRunsSummary {
    return { job, runs: {}, durationMs: null, failures: { total: 0, recent: [] }, ...overrides };
  }

  const jobsOf = (jobs: JobRunsSummary[]) =>
    summarizeOperations({ periodStart, periodEnd, jobs, eventsByTopic: {}, peakConnectedClients: 0 }).jobs;

  it('reports the period as ISO strings and passes the peak of connected clients through', () => {
    const report = summarizeOperations({
      periodStart,
      periodEnd,
      jobs: [],
      eventsByTopic: {},
      peakConnectedClients: 7,
    });

    expect(report.period).toEqual({ start: '2025-01-01T07:00:00.000Z', end: '2025-01-02T07:00:00.000Z' });
    expect(report.clients).toEqual({ peakConnected: 7 });
    expect(report.jobs).toEqual([]);
    expect(report.events).toEqual({ total: 0, byTopic: {} });
  });

  it('counts every status, zero where the database counted none, with the total', () => {
    const [sync] = jobsOf([summary('sync', { runs: { succeeded: 3, failed: 1, skipped: 2, running: 1 } })]);

    expect(sync.runs).toEqual(statusCounts({ succeeded: 3, failed: 1, skipped: 2, running: 1, total: 7 }));
  });

  it('names the percentiles p50 and p95 beside the longest duration', () => {
    const [sync] = jobsOf([summary('sync', { durationMs: { percentiles: [200, 400], max: 450 } })]);

    expect(sync.durationMs).toEqual({ p50: 200, p95: 400, max: 450 });
  });

  it('reports no duration statistics when no run of a job has one', () => {
    const [sync] = jobsOf([summary('sync', { runs: { running: 1 } })]);

    expect(sync.durationMs).toBeNull();
  });

  it('gives the total of failures and the recent ones with run id, status, start and error, in the given order', () => {
    const newer = makeRun({ status: 'timed_out', startedAt: '2025-01-01T09:00:00.000Z', error: 'timed out' });
    const older = makeRun({ status: 'failed', startedAt: '2025-01-01T08:00:00.000Z', error: 'boom' });

    const [sync] = jobsOf([summary('sync', { failures: { total: 42, recent: [newer, older] } })]);

    expect(sync.failures).toEqual({
      total: 42,
      recent: [
        { runId: newer.id, status: 'timed_out', startedAt: newer.startedAt, error: 'timed out' },
        { runId: older.id, status: 'failed', startedAt: older.startedAt, error: 'boom' },
      ],
    });
  });

  it('sorts jobs by name', () => {
    const jobs = jobsOf([summary('zeta'), summary('alpha'), summary('mid')]);

    expect(jobs.map((job) => job.job)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('totals the events and keeps the counts by topic', () => {
    const report = summarizeOperations({
      periodStart,
      periodEnd,
      jobs: [],
      eventsByTopic: { jobs: 12, reports: 1, system: 3 },
      peakConnectedClients: 0,
    });

    expect(report.events).toEqual({ total: 16, byTopic: { jobs: 12, reports: 1, system: 3 } });
  });
});
