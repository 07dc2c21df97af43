import { Kysely } from 'kysely';

/**
 * What lets the operations report read a busy day in short, indexed steps
 * (see RunsRepository.summarizeStartedBetween): runs by job and status in
 * start order, carrying the duration, for the counts and the recent
 * failures; runs by job in duration order, carrying the start and the
 * status, for the percentiles; events by topic in time order, for their counts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('runs_job_status_started_at')
    .on('runs')
    .columns(['job', 'status', 'started_at', 'duration_ms'])
    .execute();
  await db.schema
    .createIndex('runs_job_duration_ms')
    .on('runs')
    .columns(['job', 'duration_ms', 'started_at', 'status'])
    .execute();
  await db.schema.createIndex('events_topic_at').on('events').columns(['topic', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['events_topic_at', 'runs_job_duration_ms', 'runs_job_status_started_at']) {
    await db.schema.dropIndex(index).execute();
  }
}
