import { applyDecorators, SetMetadata } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { MAX_TIMER_MS } from '../config/env.js';
import type { Job } from './job.js';

export interface Backoff {
  /** Delay before the first retry; each further retry doubles it (with jitter). */
  initialMs: number;
  /** Upper bound of any one delay. */
  maxMs?: number;
}

/** How a job runs, declared beside its schedule. */
export interface JobOptions {
  /** The job's signal is aborted after this long and the run ends `timed_out`. */
  timeoutMs?: number;
  /** Attempts after a failed or timed-out one (default 0). */
  retries?: number;
  backoff?: Backoff;
  /** While a run is in progress, another is `skip`ped (default) or `queue`d to run once after it. */
  overlap?: 'skip' | 'queue';
  /** A fire time missed while the service was down runs once at start-up (`fire-once`, default), or not (`ignore`). */
  misfire?: 'fire-once' | 'ignore';
}

export interface JobSchedule extends JobOptions {
  name: string;
  /** Quartz or `@nestjs/schedule` syntax, read by `CronSchedule`. */
  cron: string;
}

const JOB_SCHEDULE = 'jobpulse:job-schedule';

/**
 * Not a real schedule: `@nestjs/schedule` creates and registers the timer from
 * `@Cron` (disabled), and `JobScheduler` points it at each fire time that
 * `CronSchedule` computes, since the `cron` library cannot read Quartz syntax.
 */
const TIMER_PLACEHOLDER = '0 0 0 1 1 *';

/**
 * Declares the method that receives a job's ticks: a `@Cron` timer named
 * after the job, its schedule and its options. Keep the method one line:
 * `return this.scheduler.fire(this);`.
 */
export function Scheduled(name: string, cron: string, options: JobOptions = {}): MethodDecorator {
  return applyDecorators(
    Cron(TIMER_PLACEHOLDER, { name, disabled: true }),
    SetMetadata(JOB_SCHEDULE, { name, cron, ...options } satisfies JobSchedule),
  );
}

/** The schedule declared on the job's `onSchedule` method. */
export function declaredSchedule(job: Job): JobSchedule {
  // The method is only the key its metadata is stored under; it is not called here.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const schedule = Reflect.getMetadata(JOB_SCHEDULE, job.onSchedule) as JobSchedule | undefined;
  if (!schedule) throw new Error(`job "${job.name}" has no @Scheduled onSchedule method`);
  if (schedule.name !== job.name) {
    throw new Error(`job "${job.name}" declares its schedule under another name, "${schedule.name}"`);
  }
  const problem = problemWithOptions(schedule);
  if (problem) throw new Error(`job "${job.name}" has invalid options: ${problem}`);
  return schedule;
}

const isWholeBetween = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

function problemWithOptions({ timeoutMs, retries, backoff, overlap, misfire }: JobOptions): string | undefined {
  if (timeoutMs !== undefined && !isWholeBetween(timeoutMs, 1, MAX_TIMER_MS)) {
    return `timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, not ${timeoutMs}`;
  }
  if (retries !== undefined && !isWholeBetween(retries, 0, 100))
    return `retries must be a whole number from 0 to 100, not ${retries}`;
  if (backoff !== undefined) {
    if (!isWholeBetween(backoff.initialMs, 1, MAX_TIMER_MS))
      return `backoff.initialMs must be a positive whole number, not ${backoff.initialMs}`;
    if (backoff.maxMs !== undefined && !isWholeBetween(backoff.maxMs, backoff.initialMs, MAX_TIMER_MS)) {
      return `backoff.maxMs must be a whole number no smaller than initialMs, not ${backoff.maxMs}`;
    }
  }
  if (overlap !== undefined && overlap !== 'skip' && overlap !== 'queue')
    return `overlap must be 'skip' or 'queue', not ${String(overlap)}`;
  if (misfire !== undefined && misfire !== 'fire-once' && misfire !== 'ignore') {
    return `misfire must be 'fire-once' or 'ignore', not ${String(misfire)}`;
  }
  return undefined;
}
