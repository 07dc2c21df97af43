import type { Backoff } from '../job-options.js';

export const DEFAULT_BACKOFF: Required<Backoff> = { initialMs: 1000, maxMs: 60_000 };

/**
 * The wait before retry number `attempt` (1 after the first failure):
 * exponential, capped, with "equal jitter" (half fixed, half random) so that
 * jobs failing together do not retry in lockstep.
 */
export function backoffDelayMs(
  backoff: Backoff | undefined,
  attempt: number,
  random: () => number = Math.random,
): number {
  const initialMs = backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const exponential = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
