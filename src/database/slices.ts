import { setImmediate as nextTurnOfTheLoop } from 'node:timers/promises';

/**
 * How many index entries one SQLite statement of a large read may step
 * through: a few milliseconds' worth. better-sqlite3 runs each statement
 * synchronously on the event loop, so a read over a busy day is made of
 * many such statements, with a turn of the loop between them, so that
 * timers, sockets, requests and lease renewals wait no longer than one.
 */
export const SLICE_ENTRIES = 20_000;

/** Lets whatever waits on the event loop run before the next statement. */
export function yieldToEventLoop(): Promise<void> {
  return nextTurnOfTheLoop();
}

/** The two statements of {@link sumInSlices}, over the rows of one index range ordered by an instant. */
export interface SliceQueries<Totals extends Record<string, number>> {
  /**
   * The instant of the row `SLICE_ENTRIES` rows past the first at or after
   * `from` and before `to`, in the index's order; undefined when fewer rows
   * are left.
   */
  boundaryAfter(from: string, to: string): Promise<string | undefined>;
  /** The totals over the rows in [from, to). */
  totalsIn(from: string, to: string): Promise<Totals>;
}

/**
 * Sums `totalsIn` over [from, to) slice by slice, each slice at most
 * SLICE_ENTRIES rows of the index, so that no statement steps through more,
 * with a turn of the event loop before each statement.
 */
export async function sumInSlices<Totals extends Record<string, number>>(
  from: string,
  to: string,
  queries: SliceQueries<Totals>,
): Promise<Totals> {
  let sum: Totals | undefined;
  for (let cursor = from; ;) {
    await yieldToEventLoop();
    const boundary = await queries.boundaryAfter(cursor, to);
    // More than a slice of rows at the cursor's very instant cannot be split by instant: they are summed at once.
    const end = boundary === undefined || boundary === cursor ? to : boundary;
    await yieldToEventLoop();
    const totals = await queries.totalsIn(cursor, end);
    sum = sum === undefined ? totals : addTotals(sum, totals);
    if (end === to) return sum;
    cursor = end;
  }
}

function addTotals<Totals extends Record<string, number>>(a: Totals, b: Totals): Totals {
  return Object.fromEntries(Object.entries(a).map(([key, value]) => [key, value + b[key]])) as Totals;
}
