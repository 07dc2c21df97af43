import { applyDecorators, SetMetadata } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { problemWithOptions, type JobOptions } from './job-options.js';
import type { Job } from './job.js';

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

