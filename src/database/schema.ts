import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Timestamps are ISO-8601 UTC strings with milliseconds (`Date#toISOString`):
 * they sort and compare as text the same way on SQLite and PostgreSQL.
 */
export type Timestamp = string;

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'manual' | 'startup';

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
}

export type RunRow = Selectable<RunsTable>;
export type NewRunRow = Insertable<RunsTable>;
export type ReportRow = Selectable<ReportsTable>;
export type EventRow = Selectable<EventsTable>;
