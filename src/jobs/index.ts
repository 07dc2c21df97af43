// What a job author imports: the decorators and the context a job method receives.
export { Cron, type CronOptions } from './decorators/cron.decorator.js';
export { Job } from './decorators/job.decorator.js';
export type { JobContext } from './job.js';
export type { Backoff, JobOptions } from './job-options.js';
