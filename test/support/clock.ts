import type { Clock } from '../../src/common/clock.js';

/** A clock that stands still until the test moves it. */
export class TestClock implements Clock {
  constructor(public current: Date) {}

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(iso: string): void {
    this.current = new Date(iso);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
