import { Kysely, PostgresAdapter } from 'kysely';

/** Portable across SQLite and PostgreSQL: varchar, text and integer only; the event id is each dialect's identity column. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('runs')
    .addColumn('id', 'varchar(36)', (col) => col.primaryKey())
    .addColumn('job', 'varchar(100)', (col) => col.notNull())
    .addColumn('trigger', 'varchar(20)', (col) => col.notNull())
    .addColumn('status', 'varchar(20)', (col) => col.notNull())
    .addColumn('scheduled_for', 'varchar(30)', (col) => col.notNull())
    .addColumn('started_at', 'varchar(30)', (col) => col.notNull())
    .addColumn('finished_at', 'varchar(30)')
    .addColumn('duration_ms', 'integer')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('runs_job_started_at').on('runs').columns(['job', 'started_at']).execute();
  await db.schema.createIndex('runs_started_at').on('runs').column('started_at').execute();

  await db.schema
    .createTable('reports')
    .addColumn('id', 'varchar(36)', (col) => col.primaryKey())
    .addColumn('run_id', 'varchar(36)')
    .addColumn('title', 'varchar(200)', (col) => col.notNull())
    .addColumn('period_start', 'varchar(30)', (col) => col.notNull())
    .addColumn('period_end', 'varchar(30)', (col) => col.notNull())
    .addColumn('created_at', 'varchar(30)', (col) => col.notNull())
    .addColumn('content', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('reports_created_at').on('reports').column('created_at').execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', (col) =>
      isPostgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
    )
    .addColumn('topic', 'varchar(50)', (col) => col.notNull())
    .addColumn('type', 'varchar(100)', (col) => col.notNull())
    .addColumn('at', 'varchar(30)', (col) => col.notNull())
    .addColumn('data', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('events_at').on('events').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('reports').execute();
  await db.schema.dropTable('runs').execute();
}
