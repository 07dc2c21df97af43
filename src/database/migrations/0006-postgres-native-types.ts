import { Kysely, PostgresAdapter, sql } from 'kysely';

/** PostgreSQL's own types for what SQLite keeps portable: instants, JSON documents and counts that can grow. */
const INSTANTS: Record<string, string[]> = {
  runs: ['scheduled_for', 'started_at', 'finished_at', 'lease_expires_at'],
  jobs: ['updated_at'],
  reports: ['period_start', 'period_end', 'created_at'],
  events: ['at'],
};
const DOCUMENTS: Record<string, string[]> = { reports: ['content'], events: ['data'] };
// Event ids became bigint in 0003.
const COUNTS: Record<string, string[]> = { runs: ['duration_ms'] };

/**
 * Converts an existing PostgreSQL database in place: `timestamptz` for instants (the ISO-8601 text
 * stored so far casts exactly), `jsonb` for event data and report content, `bigint` for durations.
 * One ALTER per table, so each is rewritten once. SQLite keeps its portable types, and the driver
 * hands both back as before (see createDatabase), so the API's JSON does not change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const table of Object.keys(INSTANTS)) {
    const changes = [
      ...INSTANTS[table].map((column) => `alter column ${column} type timestamptz using ${column}::timestamptz`),
      ...(DOCUMENTS[table] ?? []).map((column) => `alter column ${column} type jsonb using ${column}::jsonb`),
      ...(COUNTS[table] ?? []).map((column) => `alter column ${column} type bigint`),
    ];
    await sql.raw(`alter table ${table} ${changes.join(', ')}`).execute(db);
  }
}

/** Back to text and integers, instants written as before (`2026-01-01T07:00:00.000Z`). */
export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  const isoText = (column: string) =>
    `alter column ${column} type varchar(30) using to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  for (const table of Object.keys(INSTANTS)) {
    const changes = [
      ...INSTANTS[table].map(isoText),
      ...(DOCUMENTS[table] ?? []).map((column) => `alter column ${column} type text using ${column}::text`),
      ...(COUNTS[table] ?? []).map((column) => `alter column ${column} type integer`),
    ];
    await sql.raw(`alter table ${table} ${changes.join(', ')}`).execute(db);
  }
}
