import { SetMetadata } from '@nestjs/common';

export const CRON_METADATA = 'jobpulse:cron';

export interface CronOptions {
  /** IANA time zone the expression is read in; JOBS_TIME_ZONE when absent. */
  timeZone?: string;
}

export interface CronMetadata extends CronOptions {
  expression: string;
}

/**
 * The schedule of the `@Job` on the same method, in Quartz syntax
 * (`0 0/15 8-18 ? * MON-FRI`) or `@nestjs/schedule`'s. Metadata only: the
 * job explorer reads it, and `<JOB_NAME>_CRON` in the environment replaces it.
 */
export function Cron(expression: string, options: CronOptions = {}): MethodDecorator {
  return SetMetadata(CRON_METADATA, { expression, ...options } satisfies CronMetadata);
}
