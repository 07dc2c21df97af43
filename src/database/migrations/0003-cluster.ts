import { Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * What lets several replicas share one database: the replica that ran each
 * run, a claim that makes each tick run once, and at most one running and
 * one queued run per job; on PostgreSQL, 64-bit event ids and the table
 * socket.io's PostgreSQL adapter keeps large messages in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('runs').addColumn('node', 'varchar(200)').execute();
  await db.schema.alterTable('runs').addColumn('claim_key', 'varchar(200)').execute();
  await db.schema.createIndex('runs_claim_key').on('runs').column('claim_key').unique().execute();

  // A second running or queued run of a job could only be left by a process that died; the newest one stays.
  await sql`
    update runs set status = 'abandoned', lease_expires_at = null,
      error = 'lease expired: the process running it stopped'
    where status in ('running', 'queued') and exists (
      select 1 from runs newer
      where newer.job = runs.job and newer.status = runs.status
        and (newer.started_at > runs.started_at or (newer.started_at = runs.started_at and newer.id > runs.id))
    )`.execute(db);
  for (const status of ['running', 'queued']) {
    await db.schema
      .createIndex(`runs_one_${status}_per_job`)
      .on('runs')
      .column('job')
      .unique()
      .where(sql.ref('status'), '=', status)
      .execute();
  }

  if (isPostgres) {
    await sql`alter table events alter column id type bigint`.execute(db);
    await db.schema
      .createTable('socket_io_attachments')
      .ifNotExists()
      .addColumn('id', 'bigserial', (col) => col.unique())
      .addColumn('created_at', 'timestamptz', (col) => col.defaultTo(sql`now()`))
      .addColumn('payload', 'bytea')
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('socket_io_attachments').ifExists().execute();
  for (const index of ['runs_one_queued_per_job', 'runs_one_running_per_job', 'runs_claim_key']) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema.alterTable('runs').dropColumn('claim_key').execute();
  await db.schema.alterTable('runs').dropColumn('node').execute();
}
