import { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';

const lowest = () => 0;
const highest = () => 1;

describe('backoffDelayMs', () => {
  it('waits half the exponential delay when the jitter is 0', () => {
    expect(backoffDelayMs({ initialMs: 1000 }, 1, lowest)).toBe(500);
  });

  it('waits the full exponential delay when the jitter is 1', () => {
    expect(backoffDelayMs({ initialMs: 1000 }, 1, highest)).toBe(1000);
  });

  it('adds the random share of the other half', () => {
    expect(backoffDelayMs({ initialMs: 1000 }, 1, () => 0.5)).toBe(750);
    expect(backoffDelayMs({ initialMs: 1000 }, 1, () => 0.25)).toBe(625);
  });

  it('doubles the delay with each attempt', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) =>
      backoffDelayMs({ initialMs: 100, maxMs: 1_000_000 }, attempt, highest),
    );

    expect(delays).toEqual([100, 200, 400, 800, 1600]);
  });

  it('doubles the jittered lower bound too', () => {
    const delays = [1, 2, 3].map((attempt) => backoffDelayMs({ initialMs: 100, maxMs: 1_000_000 }, attempt, lowest));

    expect(delays).toEqual([50, 100, 200]);
  });

  it('caps the exponential delay at maxMs before the jitter', () => {
    const backoff = { initialMs: 100, maxMs: 300 };

    expect(backoffDelayMs(backoff, 2, highest)).toBe(200);
    expect(backoffDelayMs(backoff, 3, highest)).toBe(300);
    expect(backoffDelayMs(backoff, 10, highest)).toBe(300);
    expect(backoffDelayMs(backoff, 10, lowest)).toBe(150);
  });

  it('stays at the cap for very late attempts', () => {
    expect(backoffDelayMs({ initialMs: 1000, maxMs: 5000 }, 2000, highest)).toBe(5000);
  });

  it('uses 1 s initially and 60 s at most by default', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1000, maxMs: 60_000 });
    expect(backoffDelayMs(undefined, 1, highest)).toBe(1000);
    expect(backoffDelayMs(undefined, 1, lowest)).toBe(500);
    expect(backoffDelayMs(undefined, 6, highest)).toBe(32_000);
    expect(backoffDelayMs(undefined, 7, highest)).toBe(60_000);
    expect(backoffDelayMs(undefined, 20, lowest)).toBe(30_000);
  });

  it('keeps the default cap when only initialMs is given', () => {
    expect(backoffDelayMs({ initialMs: 10_000 }, 4, highest)).toBe(60_000);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffDelayMs({ initialMs: 5 }, 1, lowest)).toBe(3);
    expect(Number.isInteger(backoffDelayMs({ initialMs: 7 }, 1, () => 0.3))).toBe(true);
  });

  it('uses Math.random when no random source is given', () => {
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelayMs({ initialMs: 1000 }, 1);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  it('keeps the default cap when maxMs is given as undefined', () => {
    expect(backoffDelayMs({ initialMs: 100, maxMs: undefined }, 1, highest)).toBe(100);
  });
});
