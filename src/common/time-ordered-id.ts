import { randomFillSync } from 'node:crypto';

/** rand_a's 12 bits count the ids of one millisecond. */
const COUNTER_MAX = 0xfff;

/**
 * Version 7 UUIDs (RFC 9562): the milliseconds since 1970 in the first 48 bits,
 * then the version, a counter, the variant and random bits. Ids made one after
 * another sort in that order, so that rows inserted, and later deleted, in time
 * order touch the end of their primary key's index instead of a random page each.
 *
 * Monotonic (RFC 9562's method 1): within one millisecond, or while the clock
 * stands behind the last id's, the counter in rand_a goes up by one from a
 * random start below half its range; should it run out, the id takes the next
 * millisecond.
 */
export class TimeOrderedIds {
  private lastMs = -1;
  private counter = 0;

  constructor(
    private readonly nowMs: () => number = Date.now,
    private readonly fillRandom: (bytes: Uint8Array) => void = randomFillSync,
  ) {}

  next(): string {
    const bytes = new Uint8Array(16);
    this.fillRandom(bytes);
    const ms = this.nowMs();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.counter = ((bytes[6] & 0x07) << 8) | bytes[7];
    } else if (this.counter < COUNTER_MAX) {
      this.counter += 1;
    } else {
      this.lastMs += 1;
      this.counter = 0;
    }
    const view = new DataView(bytes.buffer);
    view.setUint16(0, Math.floor(this.lastMs / 2 ** 32));
    view.setUint32(2, this.lastMs % 2 ** 32);
    view.setUint16(6, 0x7000 | this.counter);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    const hex = Buffer.from(bytes).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

const ids = new TimeOrderedIds();

/** A new version 7 UUID: ids made later sort after earlier ones (the ids of runs and reports). */
export function timeOrderedId(): string {
  return ids.next();
}
