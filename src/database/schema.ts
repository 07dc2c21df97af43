import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Timestamps are ISO-8601 UTC strings with milliseconds (`Date#toISOString`): stored as such on
 * SQLite, where they sort and compare as text; `timestamptz` on PostgreSQL, read back in the same
 * form (see createDatabase) and compared with ISO text parameters as instants.
 */
export type Timestamp = string;

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'timed_out',
  'interrupted',
  'abandoned',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** A run that ended without doing its work: listed as a failure in reports, and retryable by hand. */
export const FAILED_STATUSES: readonly RunStatus[] = ['failed', 'timed_out', 'interrupted', 'abandoned'];
export type RunTrigger = 'schedule' | 'manual' | 'startup' | 'catch-up' | 'retry';

export interface RunsTable {
  id: string;
  job: string;
  trigger: RunTrigger;
  status: RunStatus;
  scheduled_for: Timestamp;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  duration_ms: number | null;
  error: string | null;
  attempt: ColumnType<number, number | undefined, number>;
  max_attempts: ColumnType<number, number | undefined, number>;
  retry_of: string | null;
  /** While running or queued: the instant after which the run counts as abandoned unless renewed. */
  lease_expires_at: Timestamp | null;
  /** The replica that ran (or queued) the run. */
  node: string | null;
  /** Unique: the first attempt of a tick is claimed by one replica, `<job>@<fire time>`; null for other runs. */
  claim_key: string | null;
}

export interface JobsTable {
  name: string;
  /** 0 or 1: portable across SQLite and PostgreSQL. */
  paused: number;
  /** When the job was first seen, or last paused or resumed. */
  updated_at: Timestamp;
}

export interface ReportsTable {
  id: string;
  run_id: string | null;
  title: string;
  period_start: Timestamp;
  period_end: Timestamp;
  created_at: Timestamp;
  /** The generator's JSON document. */
  content: string;
}

export interface EventsTable {
  id: Generated<number>;
  topic: string;
  type: string;
  at: Timestamp;
  /** JSON. */
  data: ColumnType<string, string, never>;
}

export interface Database {
  runs: RunsTable;
  reports: ReportsTable;
  events: EventsTable;
  jobs: JobsTable;
}

export type RunRow = Selectable<RunsTable>;
export type NewRunRow = Insertable<RunsTable>;
export type ReportRow = Selectable<ReportsTable>;
export type EventRow = Selectable<EventsTable>;
