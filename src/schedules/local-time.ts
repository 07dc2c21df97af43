import { Cron } from 'croner';

// Wall-clock reckoning in an IANA time zone, for the Quartz rules of the cron evaluator.

export const HOUR_MS = 3_600_000;

export type LocalDateTime = Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;

/** One formatter per time zone: building one costs far more than using it, and a search reads thousands of instants. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The reading of the clock at `instant` in `timeZone` (month 1 = January). */
export function localDateTime(instant: Date, timeZone: string): LocalDateTime {
  const parts = wallClockOf(timeZone).formatToParts(instant);
  const value = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  return {
    year: value('year'),
    month: value('month'),
    day: value('day'),
    hour: value('hour'),
    minute: value('minute'),
    second: value('second'),
  };
}

function wallClockOf(timeZone: string): Intl.DateTimeFormat {
  let format = wallClocks.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClocks.set(timeZone, format);
  }
  return format;
}

/** The same reading of the clock: an hour apart, only when daylight saving repeats an hour. */
export function sameWallTime(a: LocalDateTime, b: LocalDateTime): boolean {
  return (Object.keys(a) as (keyof LocalDateTime)[]).every((part) => a[part] === b[part]);
}

/**
 * The first instant of the local date `year-month-day` (month 13 is January of the next year),
 * a later day than `local`, the wall time of `after`. The UTC offset at `after` places that date to
 * within the daylight-saving change between them, and croner's next local midnight from half a day
 * earlier finds its start exactly. Should an offset change of more than half a day (Samoa skipped
 * 30 December 2011) put that past the date, the start of the day after `after` is returned instead:
 * never later than the date, so no day that may fire is jumped over.
 */
export function startOfLocalDay(
  year: number,
  month: number,
  day: number,
  local: LocalDateTime,
  after: Date,
  timeZone: string,
): Date | null {
  const date = Date.UTC(year, month - 1, day);
  const offsetMs =
    Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second) - after.getTime();
  const start = nextLocalMidnight(new Date(Math.max(after.getTime(), date - offsetMs - 12 * HOUR_MS)), timeZone);
  const startDate = start && localDateTime(start, timeZone);
  if (startDate && Date.UTC(startDate.year, startDate.month - 1, startDate.day) > date) {
    return nextLocalMidnight(after, timeZone);
  }
  return start;
}

/** The first instant of `instant`'s local day (01:00 where daylight saving skips midnight). */
export function startOfLocalDayOf(instant: Date, timeZone: string): Date {
  const [start] = midnightOf(timeZone).previousRuns(1, new Date(instant.getTime() + 1));
  return start ?? instant;
}

/** The first instant of the local day after `instant`'s, or null past the years croner searches. */
function nextLocalMidnight(instant: Date, timeZone: string): Date | null {
  return midnightOf(timeZone).nextRun(instant);
}

/** A daily croner schedule at local midnight per time zone: croner knows where a day begins across daylight saving. */
const midnights = new Map<string, Cron>();

function midnightOf(timeZone: string): Cron {
  let midnight = midnights.get(timeZone);
  if (!midnight) {
    midnight = new Cron('0 0 0 * * *', { timezone: timeZone });
    midnights.set(timeZone, midnight);
  }
  return midnight;
}
