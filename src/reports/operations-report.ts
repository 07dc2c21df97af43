import type { JobRunsSummary } from '../database/runs.repository.js';
import { RUN_STATUSES, type RunStatus } from '../database/schema.js';

/** The percentiles of run durations the report shows; the runs repository computes them by nearest rank. */
export const DURATION_PERCENTILES = [50, 95];
/** How many of a job's failures the report lists, the most recent; `failures.total` counts them all. */
export const RECENT_FAILURES = 20;

export interface DurationStats {
  p50: number;
  p95: number;
  max: number;
}

export interface FailedRun {
  runId: string;
  status: RunStatus;
  startedAt: string;
  error: string | null;
}

export interface JobSummary {
  job: string;
  runs: Record<RunStatus, number> & { total: number };
  /** Over runs that ended after doing (or failing) their work; null when none did. */
  durationMs: DurationStats | null;
  /** Every failed run counted; the RECENT_FAILURES most recent listed, newest first. */
  failures: { total: number; recent: FailedRun[] };
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
  /** Per job, as the runs repository summarized them with DURATION_PERCENTILES and RECENT_FAILURES. */
  jobs: JobRunsSummary[];
  eventsByTopic: Record<string, number>;
  peakConnectedClients: number;
}

/** Shapes what the database counted into the report: every status counted, jobs by name. */
export function summarizeOperations(input: OperationsInput): OperationsReport {
  const jobs = [...input.jobs]
    .sort((a, b) => a.job.localeCompare(b.job))
    .map(({ job, runs, durationMs, failures }): JobSummary => {
      const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, runs[status] ?? 0])) as Record<
        RunStatus,
        number
      >;
      const [p50, p95] = durationMs?.percentiles ?? [];
      return {
        job,
        runs: { ...counts, total: Object.values(counts).reduce((sum, count) => sum + count, 0) },
        durationMs: durationMs && { p50, p95, max: durationMs.max },
        failures: {
          total: failures.total,
          recent: failures.recent.map((run) => ({
            runId: run.id,
            status: run.status,
            startedAt: run.startedAt,
            error: run.error,
          })),
        },
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
