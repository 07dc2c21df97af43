import { Injectable } from '@nestjs/common';

/**
 * Counts the clients watching this process, and the peak since the peak was
 * last taken (by the daily report). The gateway reports connections here so
 * that nothing has to reach into the gateway.
 */
@Injectable()
export class ClientPresence {
  private current = 0;
  private peak = 0;

  connected(): void {
    this.current += 1;
    this.peak = Math.max(this.peak, this.current);
  }

  disconnected(): void {
    this.current = Math.max(0, this.current - 1);
  }

  get connectedNow(): number {
    return this.current;
  }

  /** The peak since the previous call; the next period starts from the clients connected now. */
  takePeak(): number {
    const peak = this.peak;
    this.peak = this.current;
    return peak;
  }
}
