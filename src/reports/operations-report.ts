import type { Run } from '../database/runs.repository.js';
import { FAILED_STATUSES, RUN_STATUSES, type RunStatus } from '../database/schema.js';

export interface DurationStats {
  p50: number;
  p95: number;
  max: number;
}

export interface JobSummary {
  job: string;
  runs: Record<RunStatus, number> & { total: number };
  /** Over runs that ended after doing (or failing) their work; null when none did. */
  durationMs: DurationStats | null;
  failures: { runId: string; status: RunStatus; startedAt: string; error: string | null }[];
}

export interface OperationsReport {
  [key: string]: unknown;
  period: { start: string; end: string };
  jobs: JobSummary[];
  events: { total: number; byTopic: Record<string, number> };
  clients: { peakConnected: number };
}

export interface OperationsInput {
  periodStart: Date;
  periodEnd: Date;
  runs: Run[];
  eventsByTopic: Record<string, number>;
  peakConnectedClients: number;
}

/** Nearest-rank percentile of ascending `sorted` values (the value at or above the p-th share). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarizeOperations(input: OperationsInput): OperationsReport {
  const byJob = new Map<string, Run[]>();
  for (const run of input.runs) byJob.set(run.job, [...(byJob.get(run.job) ?? []), run]);

  const jobs = [...byJob.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([job, runs]): JobSummary => {
      const counts = {
        ...Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])),
        total: runs.length,
      } as JobSummary['runs'];
      for (const run of runs) counts[run.status] += 1;
      const durations = runs
        .filter(
          (run) => run.durationMs !== null && (run.status === 'succeeded' || FAILED_STATUSES.includes(run.status)),
        )
        .map((run) => run.durationMs as number)
        .sort((a, b) => a - b);
      return {
        job,
        runs: counts,
        durationMs: durations.length
          ? { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations[durations.length - 1] }
          : null,
        failures: runs
          .filter((run) => FAILED_STATUSES.includes(run.status))
          .map((run) => ({ runId: run.id, status: run.status, startedAt: run.startedAt, error: run.error })),
      };
    });

  const total = Object.values(input.eventsByTopic).reduce((sum, count) => sum + count, 0);
  return {
    period: { start: input.periodStart.toISOString(), end: input.periodEnd.toISOString() },
    jobs,
    events: { total, byTopic: input.eventsByTopic },
    clients: { peakConnected: input.peakConnectedClients },
  };
}
