import { Kysely, sql } from 'kysely';

/** `jobs.first_seen_at` was written but never read: catch-up goes by `updated_at`, set when a job is first seen. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('first_seen_at').execute();
}

/** Restored from `updated_at`, the closest instant still known. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('first_seen_at', 'varchar(30)').execute();
  await sql`update jobs set first_seen_at = updated_at`.execute(db);
}
