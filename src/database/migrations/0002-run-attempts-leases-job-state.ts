import { Kysely } from 'kysely';

/** Retries and leases on runs, and the stored state of each job (paused, first seen). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('runs')
    .addColumn('attempt', 'integer', (col) => col.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('runs')
    .addColumn('max_attempts', 'integer', (col) => col.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('runs').addColumn('retry_of', 'varchar(36)').execute();
  await db.schema.alterTable('runs').addColumn('lease_expires_at', 'varchar(30)').execute();
  await db.schema.createIndex('runs_status_lease').on('runs').columns(['status', 'lease_expires_at']).execute();
  await db.schema.createIndex('runs_job_scheduled_for').on('runs').columns(['job', 'scheduled_for']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('name', 'varchar(100)', (col) => col.primaryKey())
    .addColumn('paused', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('first_seen_at', 'varchar(30)', (col) => col.notNull())
    .addColumn('updated_at', 'varchar(30)', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('jobs').execute();
  await db.schema.dropIndex('runs_job_scheduled_for').execute();
  await db.schema.dropIndex('runs_status_lease').execute();
  for (const column of ['lease_expires_at', 'retry_of', 'max_attempts', 'attempt']) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
}
