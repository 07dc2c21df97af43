import { SetMetadata } from '@nestjs/common';

export const COUNTS_AS_WRITE_METADATA = 'jobpulse:counts-as-write';

/**
 * A read that costs as much as a write (the schedule preview searches fire times):
 * it counts against `RATE_LIMIT_WRITES` instead of `RATE_LIMIT_READS`.
 */
export function CountsAsWrite(): MethodDecorator & ClassDecorator {
  return SetMetadata(COUNTS_AS_WRITE_METADATA, true);
}
