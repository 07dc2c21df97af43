import { EMPTY, type Observable } from 'rxjs';

/**
 * What replicas sharing one database tell each other: "events up to id n are
 * stored". A hint only says where to read up to; each replica reads the events
 * themselves from the table, in id order, so a hint that arrives late, twice
 * or never (the feed's poll covers it) loses nothing.
 */
export interface ReplicaHints {
  /** Tells the other replicas that this process stored events up to `id`. */
  announce(id: number): void;
  /** The ids the other replicas announce. */
  readonly announced$: Observable<number>;
}

export const REPLICA_HINTS = Symbol('REPLICA_HINTS');

/** No other replica to tell or hear from (SQLite, or a spec): other processes on one file are found by polling. */
export const NO_REPLICAS: ReplicaHints = { announce: () => undefined, announced$: EMPTY };
