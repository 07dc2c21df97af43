import { SlidingWindow } from './sliding-window.js';

const MINUTE = 60_000;

describe('SlidingWindow', () => {
  it('allows limit requests in a window, then refuses until the oldest stops counting', () => {
    const window = new SlidingWindow(MINUTE);

    expect(window.take('a', 3, 0)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0, resetMs: MINUTE });
    expect(window.take('a', 3, 10_000)).toMatchObject({ allowed: true, remaining: 1 });
    expect(window.take('a', 3, 20_000)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetMs: MINUTE });
    expect(window.take('a', 3, 30_000)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 30_000,
      resetMs: 50_000,
    });
  });

  it('counts each request for exactly one window', () => {
    const window = new SlidingWindow(MINUTE);
    window.take('a', 1, 0);

    expect(window.take('a', 1, MINUTE - 1).allowed).toBe(false);
    expect(window.take('a', 1, MINUTE).allowed).toBe(true);
  });

  it('frees one request when the oldest expires, not the whole budget', () => {
    const window = new SlidingWindow(MINUTE);
    window.take('a', 2, 0);
    window.take('a', 2, 30_000);

    expect(window.take('a', 2, MINUTE)).toMatchObject({ allowed: true, remaining: 0 });
    expect(window.take('a', 2, MINUTE)).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
  });

  it('does not count refused requests, so retrying early does not push the wait back', () => {
    const window = new SlidingWindow(MINUTE);
    window.take('a', 1, 0);
    for (let second = 1; second < 60; second++) window.take('a', 1, second * 1000);

    expect(window.take('a', 1, MINUTE).allowed).toBe(true);
  });

  it('keeps each key apart', () => {
    const window = new SlidingWindow(MINUTE);
    window.take('a', 1, 0);

    expect(window.take('a', 1, 0).allowed).toBe(false);
    expect(window.take('b', 1, 0).allowed).toBe(true);
  });

  it('forgets the keys whose requests have all expired', () => {
    const window = new SlidingWindow(MINUTE);
    for (let client = 0; client < 100; client++) window.take(`client-${client}`, 5, 0);
    expect(window.size).toBe(100);

    window.take('late', 5, 2 * MINUTE);

    expect(window.size).toBe(1);
  });
});
