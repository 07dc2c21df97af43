/** Time is injected so that run records, retention and report periods can be tested at fixed instants. */
export const CLOCK = Symbol('CLOCK');

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
