import { Cron, type CronOptions } from 'croner';
import { CronScheduleError } from './cron-schedule-error.js';
import {
  HOUR_MS,
  localDateTime,
  sameWallTime,
  startOfLocalDay,
  startOfLocalDayOf,
  type LocalDateTime,
} from './local-time.js';
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

  private readonly lastNextRuns = new Map<number, { from: number; runs: Date[] }>();

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

  /**
   * Up to `count` fire times strictly after `instant`, in order: as far as it takes, so a timer never
   * misses one. The last answer per count is kept: it stays right until its first fire time passes,
   * so the catalogue of a job that rarely or never fires is not searched again on every request.
   */
  nextRuns(count: number, instant: Date): Date[] {
    const known = this.lastNextRuns.get(count);
    const time = instant.getTime();
    if (known && time >= known.from && (known.runs.length === 0 || time < known.runs[0].getTime()))
      return [...known.runs];
    const runs = this.searchNextRuns(count, instant, Number.POSITIVE_INFINITY).runs;
    this.lastNextRuns.set(count, { from: time, runs });
    return [...runs];
  }

  /**
   * Up to `count` fire times strictly after `instant`, in order, weighing no more than
   * `maxCandidates` of croner's proposals: each costs tens of microseconds, and an expression that
   * rarely or never fires (`0 0 0 L-29 2 ?`) would otherwise be searched up to the year 3000.
   */
  searchNextRuns(count: number, instant: Date, maxCandidates: number): FireTimeSearch {
    const runs: Date[] = [];
    let cursor = instant;
    for (let weighed = 0; runs.length < count; weighed += 1) {
      if (weighed === maxCandidates) return { runs, searchedUntil: cursor };
      const next = this.cron.nextRun(cursor);
      if (!next) break;
      const verdict = this.verdictOn(next);
      if (verdict === 'fires') runs.push(next);
      cursor =
        verdict instanceof Object ? this.justBeforeNextLastRelativeDay(verdict, next) : new Date(next.getTime() + 1);
    }
    return { runs };
  }

  /** The last fire time strictly before `instant`, or null when there is none. */
  previousBefore(instant: Date): Date | null {
    let cursor = instant;
    for (;;) {
      const [previous] = this.cron.previousRuns(1, cursor);
      if (!previous) return null;
      const verdict = this.verdictOn(previous);
      if (verdict === 'fires') return previous;
      cursor = verdict instanceof Object ? startOfLocalDayOf(previous, this.timeZone) : previous;
    }
  }

  /**
   * Whether croner's `candidate` is a fire time. In Quartz syntax, as Quartz does, a wall time that
   * daylight saving skips does not fire (croner moves it to the end of the gap), and a wall time it
   * repeats fires once (croner fires interval schedules in both passes). For `L-n`, croner proposes
   * every day it can fall on: a candidate on another day is answered with that day, so that a search
   * can leap over the rest of it and the days after it.
   */
  private verdictOn(candidate: Date): 'fires' | 'not-this-instant' | OtherDay {
    if (!this.quartz) return 'fires';
    if (!this.cron.match(candidate)) return 'not-this-instant';
    const local = localDateTime(candidate, this.timeZone);
    if (sameWallTime(local, localDateTime(new Date(candidate.getTime() - HOUR_MS), this.timeZone))) {
      return 'not-this-instant';
    }
    const rule = this.lastRelativeDay;
    if (!rule || local.day === dayOfLastRelativeDay(rule, local.year, local.month)) return 'fires';
    return { local, rule };
  }

  /**
   * Just before the next `L-n` day after `local`'s begins: later in this month, or in the next month
   * (or at the start of the month after, when the next is too short for it). That is one proposal a
   * month instead of one for each of the up to eight days croner proposes. Croner's proposals are
   * strictly after the instant returned, and the day may fire at its first.
   */
  private justBeforeNextLastRelativeDay({ local, rule }: OtherDay, candidate: Date): Date {
    const { year, month } = local;
    const thisMonth = dayOfLastRelativeDay(rule, year, month);
    // Month 13 is January of the next year: Date.UTC, which every calendar reckoning here goes through, carries it over.
    const nextMonth = dayOfLastRelativeDay(rule, year, month + 1);
    const [toMonth, toDay] =
      thisMonth !== undefined && thisMonth > local.day
        ? [month, thisMonth]
        : nextMonth === undefined
          ? [month + 2, 1]
          : [month + 1, nextMonth];
    const start = startOfLocalDay(year, toMonth, toDay, local, candidate, this.timeZone);
    return new Date(Math.max(start ? start.getTime() - 1 : 0, candidate.getTime() + 1));
  }
}

/** A candidate of `L-n` on another day of its month than the rule's. */
interface OtherDay {
  local: LocalDateTime;
  rule: LastRelativeDay;
}

/** Fire times found by `searchNextRuns`; `searchedUntil` when it stopped before finding `count`: none is missing before it. */
export interface FireTimeSearch {
  runs: Date[];
  searchedUntil?: Date;
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
