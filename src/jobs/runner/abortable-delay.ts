/**
 * Resolves true after `ms`, or false as soon as `signal` is aborted. Built on
 * the global setTimeout rather than node:timers/promises, which Jest's fake
 * timers do not replace, so that specs move the runner's waits forward.
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const abort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}
