import { MAX_TIMER_MS } from '../config/env.js';

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

const isWholeBetween = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

export function problemWithOptions({ timeoutMs, retries, backoff, overlap, misfire }: JobOptions): string | undefined {
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
