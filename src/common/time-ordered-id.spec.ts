import { isUUID } from 'class-validator';
import { timeOrderedId, TimeOrderedIds } from './time-ordered-id.js';

const AT = Date.parse('2026-12-02T17:00:00.000Z');

/** The instant an id carries, from its first 48 bits. */
function msOf(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** Random bytes that are all `value`: the counter's start and the random bits become predictable. */
const filledWith = (value: number) => (bytes: Uint8Array) => void bytes.fill(value);

describe('TimeOrderedIds', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the current millisecond', () => {
    const id = new TimeOrderedIds(() => AT).next();

    expect(isUUID(id, '7')).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
    expect(msOf(id)).toBe(AT);
  });

  it('fills the bits after the counter from the random source, leaving the version and variant', () => {
    const id = new TimeOrderedIds(() => AT, filledWith(0xff)).next();

    // rand_a starts below half its range (0x7ff); rand_b is all ones under the variant's 10.
    expect(id.slice(14)).toBe('77ff-bfff-ffffffffffff');
  });

  it('sorts ids of one millisecond in the order they were made', () => {
    const ids = new TimeOrderedIds(() => AT);

    const made = Array.from({ length: 1000 }, () => ids.next());

    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(made.map(msOf)).toEqual(made.map(() => AT));
  });

  it('sorts ids of later milliseconds after earlier ones, whatever their random bits', () => {
    let now = AT;
    // All ones, then all zeros, then all ones again: the second id's random bits are the lowest.
    let random = 0x00;
    const ids = new TimeOrderedIds(
      () => now,
      (bytes) => void bytes.fill((random ^= 0xff)),
    );

    const first = ids.next();
    now += 1;
    const second = ids.next();
    now += 1000;
    const third = ids.next();

    expect([third, second, first].sort()).toEqual([first, second, third]);
    expect([first, second, third].map(msOf)).toEqual([AT, AT + 1, AT + 1001]);
  });

  it("keeps counting on the last id's millisecond while the clock stands behind it", () => {
    let now = AT;
    const ids = new TimeOrderedIds(() => now);

    const first = ids.next();
    now -= 5_000;
    const second = ids.next();

    expect(second > first).toBe(true);
    expect(msOf(second)).toBe(AT);
  });

  it('moves to the next millisecond once the counter runs out', () => {
    const ids = new TimeOrderedIds(() => AT, filledWith(0xff));

    // The counter starts at 0x7ff and counts to 0xfff: 2049 ids, then the next millisecond's.
    const made = Array.from({ length: 2050 }, () => ids.next());

    expect([...made].sort()).toEqual(made);
    expect(made.at(-2)?.slice(14, 18)).toBe('7fff');
    expect(msOf(made.at(-2)!)).toBe(AT);
    expect(made.at(-1)?.slice(14, 18)).toBe('7000');
    expect(msOf(made.at(-1)!)).toBe(AT + 1);
  });
});

describe('timeOrderedId', () => {
  it('makes version 7 UUIDs of the system clock, each after the one before', () => {
    const before = Date.now();
    const made = Array.from({ length: 100 }, () => timeOrderedId());

    expect(made.every((id) => isUUID(id, '7'))).toBe(true);
    expect([...made].sort()).toEqual(made);
    expect(msOf(made[0])).toBeGreaterThanOrEqual(before);
  });
});
