import type { RunTrigger } from '../database/schema.js';

/** What a job receives for one run. */
export interface JobContext {
  runId: string;
  job: string;
  trigger: RunTrigger;
  /** 1 for the first try; higher on an automatic retry (`retries` option). */
  attempt: number;
  /** Aborted at the job's timeout (`timeoutMs` option), or at shutdown once the run outlives `SHUTDOWN_TIMEOUT_MS`. */
  signal: AbortSignal;
  /** Publishes `job.progress` (percent clamped to 0–100). */
  progress: (percent: number, message?: string) => Promise<void>;
}

export interface Job {
  /** Unique; used in the API (`/api/jobs/:name`) and as the `@Cron` name. */
  readonly name: string;
  run(context: JobContext): Promise<unknown>;
  /** Receives the timer's ticks; declared with `@Scheduled(name, cron, options)`. */
  onSchedule(): Promise<void>;
}

/** What the runner needs of a job. */
export type RunnableJob = Pick<Job, 'name' | 'run'>;

/** Every job instance, in the order the API lists them. */
export const JOBS = Symbol('JOBS');

/** The schedules of the original Quartz.NET app, which the environment can override. */
export const DEFAULT_DAILY_REPORT_CRON = '0 0 7 * * ?';
export const DEFAULT_CLEANUP_CRON = '0 0 * * * ?';
