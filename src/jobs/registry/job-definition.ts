import type { CronSchedule } from '../../schedules/cron-schedule.js';
import type { JobOptions } from '../job-options.js';
import type { RunnableJob } from '../job.js';

/** A job as discovered at start-up: what the runner, the scheduler, the API and catch-up all read. */
export interface JobDefinition extends RunnableJob {
  /** Its schedule, after any `<JOB_NAME>_CRON` override; null for a job that runs on demand only. */
  readonly schedule: CronSchedule | null;
  /** The time zone its schedule is read in (also that of a schedule `<JOB_NAME>_CRON` gives an on-demand job). */
  readonly timeZone: string;
  readonly options: JobOptions;
  /** `Class.method`, to name the job's declaration in messages. */
  readonly source: string;
}

/** A job with a schedule: the scheduler sets its timers. */
export type ScheduledJobDefinition = JobDefinition & { readonly schedule: CronSchedule };

export const isScheduled = (job: JobDefinition): job is ScheduledJobDefinition => job.schedule !== null;
