import { Kysely, sql } from 'kysely';

/**
 * The cleanup keeps a run while a run retries it: this finds a run's retries without reading the
 * table. Partial, as most runs retry nothing; both dialects use it for `retry_of = …`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('runs_retry_of')
    .on('runs')
    .column('retry_of')
    .where(sql.ref('retry_of'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_retry_of').execute();
}
