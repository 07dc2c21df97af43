/** What a client's budget says about one more request. */
export interface RateLimitVerdict {
  allowed: boolean;
  /** Requests left in the window once this one is counted. */
  remaining: number;
  /** When the oldest counted request stops counting: when a refused client may try again. */
  retryAfterMs: number;
  /** When every counted request has stopped counting: the whole budget is back. */
  resetMs: number;
}

/**
 * Each client's requests of the last `windowMs`, in this process's memory: at most
 * `limit` in any window, each request counting for `windowMs` after it was made. A
 * refused request counts for nothing, so retrying too early does not push the wait back.
 */
export class SlidingWindow {
  /** Times of each key's counted requests, oldest first. */
  private readonly hits = new Map<string, number[]>();
  private nextSweepAt = 0;

  constructor(private readonly windowMs: number) {}

  take(key: string, limit: number, now: number): RateLimitVerdict {
    this.forgetIdleKeys(now);
    const hits = this.hits.get(key) ?? [];
    const expired = hits.findIndex((at) => at + this.windowMs > now);
    hits.splice(0, expired === -1 ? hits.length : expired);
    const allowed = hits.length < limit;
    if (allowed) hits.push(now);
    if (hits.length > 0) this.hits.set(key, hits);
    else this.hits.delete(key);
    return {
      allowed,
      remaining: limit - hits.length,
      retryAfterMs: allowed ? 0 : hits[0] + this.windowMs - now,
      resetMs: hits.length > 0 ? hits[hits.length - 1] + this.windowMs - now : 0,
    };
  }

  /** How many keys are held: clients seen within the last window or two. */
  get size(): number {
    return this.hits.size;
  }

  /** Once a window, drops the keys whose every request has expired, so clients that left use no memory. */
  private forgetIdleKeys(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.windowMs;
    for (const [key, hits] of this.hits) if (hits[hits.length - 1] + this.windowMs <= now) this.hits.delete(key);
  }
}
