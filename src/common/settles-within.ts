import { setTimeout as delay } from 'node:timers/promises';

/** Whether `promise` settles within `ms`; the timer never outlives the answer, so it cannot hold the process open. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const expired = delay(ms, false, { signal: timer.signal }).catch(() => false);
  const result = await Promise.race([settled, expired]);
  timer.abort();
  return result;
}
