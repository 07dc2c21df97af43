import { Injectable } from '@nestjs/common';
import type { ClientPeak } from '../reports/client-peak.js';

/**
 * Counts the clients watching this process, and the peak since the peak was
 * last taken (by the daily report, which sees only {@link ClientPeak}).
 */
@Injectable()
export class ClientPresence implements ClientPeak {
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

  takePeak(): number {
    const peak = this.peak;
    this.peak = this.current;
    return peak;
  }
}
