import { Cron, type CronOptions } from 'croner';
import { CronScheduleError } from './cron-schedule-error.js';
import { checkQuartzFields, toCronerField } from './quartz-fields.js';

export { CronScheduleError } from './cron-schedule-error.js';

/**
 * When a cron expression fires, in one time zone: the one evaluator behind
 * every fire time jobpulse computes (timers, `nextRunAt`, the preview route).
 *
 * An expression of 6 or 7 fields containing `?` is Quartz syntax and keeps
 * Quartz's meaning (weekdays 1 = Sunday … 7 = Saturday, `L`, `L-n`, `W`, `LW`,
 * `nL`, `n#k`, years), checked against Quartz's rules so that a mistake is
 * reported with its field and token. Anything else keeps `@nestjs/schedule`'s
 * meaning: 5 fields, or 6 with seconds, 0 or 7 = Sunday.
 */
export class CronSchedule {
  private constructor(
    readonly expression: string,
    readonly timeZone: string,
    readonly quartz: boolean,
    private readonly cron: Cron,
    /** Quartz's `L-n` and `L-nW`: croner proposes the days they can fall on, and only the right one of each month is kept. */
    private readonly lastRelativeDay?: LastRelativeDay,
  ) {}

  static parse(expression: string, timeZone = 'UTC'): CronSchedule {
    assertTimeZone(timeZone);
    const fields = expression.trim().split(/\s+/);
    if (fields.some((field) => field.includes('?'))) return CronSchedule.parseQuartz(expression, fields, timeZone);
    const nickname = fields.length === 1 && fields[0].startsWith('@');
    if (!nickname && (fields.length < 5 || fields.length > 6)) {
      throw new CronScheduleError(
        `"${expression}" has ${fields.length} fields: use 5 (minute hour day-of-month month day-of-week), 6 with seconds first, or Quartz syntax with "?"`,
      );
    }
    return new CronSchedule(expression, timeZone, false, build(expression, fields.join(' '), { timezone: timeZone }));
  }

  private static parseQuartz(expression: string, fields: string[], timeZone: string): CronSchedule {
    if (fields.length < 6 || fields.length > 7) {
      throw new CronScheduleError(
        `Quartz expression "${expression}" must have 6 or 7 fields (second minute hour day-of-month month day-of-week [year]), found ${fields.length}`,
      );
    }
    checkQuartzFields(fields);
    const [dayOfMonth, dayOfWeek] = [fields[3], fields[5]];
    if (dayOfMonth === '?' && dayOfWeek === '?') {
      throw new CronScheduleError('Quartz allows "?" in only one of day-of-month and day-of-week, not both');
    }
    if (dayOfMonth !== '?' && dayOfWeek !== '?') {
      throw new CronScheduleError(
        `Quartz needs "?" in day-of-month or day-of-week: "${dayOfMonth}" and "${dayOfWeek}" cannot both be given`,
      );
    }
    const lastOffset = /^L-(\d+)(W?)$/i.exec(dayOfMonth);
    const lastRelativeDay = lastOffset
      ? { daysBeforeLast: Number(lastOffset[1]), nearestWeekday: lastOffset[2] !== '' }
      : undefined;
    const translated = fields.map((field, index) =>
      index === 3 && lastRelativeDay ? possibleLastRelativeDays(lastRelativeDay) : toCronerField(field, index),
    );
    const cron = build(expression, translated.join(' '), {
      timezone: timeZone,
      alternativeWeekdays: true,
      // One day field is always "?", so AND makes the other one the only constraint.
      domAndDow: true,
      // Quartz's "0/5" (from 0, every 5) and "/5" are what croner calls sloppy ranges.
      sloppyRanges: true,
      // Quartz fires a wall time repeated at a daylight-saving fall-back once; croner does so for
      // every hour, minute and second field without a wildcard or step (lists and ranges included).
      fixedTimeRule: 'no-wildcard',
    });
    return new CronSchedule(expression, timeZone, true, cron, lastRelativeDay);
  }

  /** The first fire time strictly after `instant`, or null when there is none (a year in the past). */
  nextAfter(instant: Date): Date | null {
    return this.nextRuns(1, instant)[0] ?? null;
  }

  /** Up to `count` fire times strictly after `instant`, in order. */
  nextRuns(count: number, instant: Date): Date[] {
    const runs: Date[] = [];
    let cursor = instant;
    while (runs.length < count) {
      const [next] = this.cron.nextRuns(1, cursor);
      if (!next) break;
      const skipMs = this.msToSkip(next);
      if (skipMs === 0) runs.push(next);
      cursor = new Date(next.getTime() + skipMs);
    }
    return runs;
  }

  /** The last fire time strictly before `instant`, or null when there is none. */
  previousBefore(instant: Date): Date | null {
    let cursor = instant;
    for (;;) {
      const [previous] = this.cron.previousRuns(1, cursor);
      if (!previous) return null;
      if (this.msToSkip(previous) === 0) return previous;
      cursor = previous;
    }
  }

  /**
   * 0 when croner's `candidate` is a fire time, else how far to move on.
   * In Quartz syntax, as Quartz does, a wall time that daylight saving skips
   * does not fire (croner moves it to the end of the gap), and a wall time it
   * repeats fires once (croner fires interval schedules in both passes). A
   * candidate of `L-n` on the wrong day of its month is skipped with the rest
   * of that day, an hour at a time so that no jump crosses local midnight.
   */
  private msToSkip(candidate: Date): number {
    if (!this.quartz) return 0;
    if (!this.cron.match(candidate)) return 1;
    const local = localDateTime(candidate, this.timeZone);
    if (sameWallTime(local, localDateTime(new Date(candidate.getTime() - HOUR_MS), this.timeZone))) return 1;
    if (!this.lastRelativeDay || local.day === dayOfLastRelativeDay(this.lastRelativeDay, local.year, local.month)) {
      return 0;
    }
    const msToMidnight = ((24 - local.hour) * 3600 - local.minute * 60 - local.second) * 1000;
    return Math.max(1, Math.min(HOUR_MS, msToMidnight - 1));
  }
}

const HOUR_MS = 3_600_000;

type LocalDateTime = ReturnType<typeof localDateTime>;

/** The same reading of the clock: an hour apart, only when daylight saving repeats an hour. */
function sameWallTime(a: LocalDateTime, b: LocalDateTime): boolean {
  return (Object.keys(a) as (keyof LocalDateTime)[]).every((part) => a[part] === b[part]);
}

interface LastRelativeDay {
  daysBeforeLast: number;
  /** `W`: the weekday nearest to that day, within its month. */
  nearestWeekday: boolean;
}

/** The days of the month an `L-n` (or `L-nW`, up to two days either side) can fall on, in months of 28 to 31 days. */
function possibleLastRelativeDays({ daysBeforeLast, nearestWeekday }: LastRelativeDay): string {
  const spread = nearestWeekday ? 2 : 0;
  const days = new Set<number>();
  for (let day = 28 - daysBeforeLast - spread; day <= 31 - daysBeforeLast + spread; day += 1) {
    if (day >= 1 && day <= 31) days.add(day);
  }
  return [...days].join(',');
}

/** The day `L-n` or `L-nW` means in a month (1-based), or undefined when the month is too short for it. */
function dayOfLastRelativeDay({ daysBeforeLast, nearestWeekday }: LastRelativeDay, year: number, month: number) {
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const day = lastDay - daysBeforeLast;
  if (day < 1) return undefined;
  if (!nearestWeekday) return day;
  // Quartz's W: Saturday moves to Friday and Sunday to Monday, never out of the month.
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === lastDay ? day - 2 : day + 1;
  return day;
}

function build(expression: string, pattern: string, options: CronOptions): Cron {
  try {
    return new Cron(pattern, options);
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, '');
    throw new CronScheduleError(`"${expression}" is not a valid cron expression: ${reason}`);
  }
}

function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CronScheduleError(
      `"${timeZone}" is not an IANA time zone (such as UTC, Europe/Berlin, America/New_York)`,
    );
  }
}

function localDateTime(
  instant: Date,
  timeZone: string,
): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
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
