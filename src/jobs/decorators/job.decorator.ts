import { SetMetadata } from '@nestjs/common';
import type { JobOptions } from '../job-options.js';

export const JOB_METADATA = 'jobpulse:job';

export interface JobMetadata {
  name: string;
  options: JobOptions;
}

/**
 * Makes the method a job named `name`: the runner calls it with a `JobContext`
 * for every run (schedule, trigger, start-up, catch-up, retry). Without
 * `@Cron` beside it, the job runs on demand only.
 */
export function Job(name: string, options: JobOptions = {}): MethodDecorator {
  return SetMetadata(JOB_METADATA, { name, options } satisfies JobMetadata);
}
