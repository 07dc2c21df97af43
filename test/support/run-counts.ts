import { RUN_STATUSES, type RunStatus } from '../../src/database/schema.js';

/** A report's run counts: every status zero but those given. */
export function statusCounts(given: Partial<Record<RunStatus | 'total', number>>): Record<RunStatus | 'total', number> {
  return { ...Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])), total: 0, ...given } as Record<
    RunStatus | 'total',
    number
  >;
}
