/**
 * Passes on a stream of increasing ids sparingly: a lone id at once, a stream
 * at most once every `intervalMs`, with the newest id, which covers the ones
 * before it.
 */
export class NewestIdThrottle {
  /** The newest id not passed on yet; set while a send is scheduled. */
  private waiting: number | undefined;
  private sentAt = -Infinity;

  constructor(
    private readonly send: (id: number) => void,
    private readonly intervalMs: number,
  ) {}

  offer(id: number): void {
    const scheduled = this.waiting !== undefined;
    this.waiting = Math.max(id, this.waiting ?? id);
    if (scheduled) return;
    const wait = this.sentAt + this.intervalMs - performance.now();
    if (wait > 0) setTimeout(() => this.sendWaiting(), wait).unref();
    else setImmediate(() => this.sendWaiting());
  }

  private sendWaiting(): void {
    const newest = this.waiting;
    if (newest === undefined) return;
    this.waiting = undefined;
    this.sentAt = performance.now();
    this.send(newest);
  }
}
