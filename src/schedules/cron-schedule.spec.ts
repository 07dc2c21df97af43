import { jest } from '@jest/globals';
import { CronSchedule, CronScheduleError } from './cron-schedule.js';

// Every expected instant below was worked out by hand from a calendar of the year in question
// (weekdays checked with `date -d`), never copied from the evaluator's own output.

/** The same UTC time of day on each date: at('10:15', '2026-01-30') → ['2026-01-30T10:15:00.000Z']. */
function at(time: string, ...dates: string[]): string[] {
  const withSeconds = time.length === 5 ? `${time}:00` : time;
  return dates.map((date) => `${date}T${withSeconds}.000Z`);
}

/** Full instants written without seconds or milliseconds: utc('2026-01-01T14:58') → ['2026-01-01T14:58:00.000Z']. */
function utc(...stamps: string[]): string[] {
  return stamps.map((stamp) => `${stamp.length === 16 ? `${stamp}:00` : stamp}.000Z`);
}

function runs(cron: string, from: string, count: number, timeZone = 'UTC'): string[] {
  return CronSchedule.parse(cron, timeZone)
    .nextRuns(count, new Date(from))
    .map((instant) => instant.toISOString());
}

function parseError(cron: string, timeZone?: string): CronScheduleError {
  try {
    CronSchedule.parse(cron, timeZone);
  } catch (error) {
    if (error instanceof CronScheduleError) return error;
    throw error;
  }
  throw new Error(`"${cron}" was accepted`);
}

const NEW_YEAR_2026 = '2026-01-01T00:00:00Z'; // a Thursday

describe('CronSchedule.parse', () => {
  it.each([
    ['0 0 12 * * ?', true],
    ['0 15 10 ? * MON-FRI', true],
    ['0 15 10 ? * 6L 2002-2005', true],
    ['0 12 * * *', false],
    ['0 0 12 * * *', false],
    ['*/20 * * * * *', false],
  ])('reads "%s" with quartz = %s', (cron, quartz) => {
    const schedule = CronSchedule.parse(cron, 'Europe/Berlin');
    expect(schedule).toMatchObject({ expression: cron, timeZone: 'Europe/Berlin', quartz });
  });

  it('defaults to UTC', () => {
    expect(CronSchedule.parse('0 0 12 * * ?').timeZone).toBe('UTC');
    expect(runs('0 0 12 * * ?', NEW_YEAR_2026, 1)).toEqual(at('12:00', '2026-01-01'));
  });

  it('throws a CronScheduleError naming an unknown time zone', () => {
    const error = parseError('0 0 12 * * ?', 'Mars/Olympus');
    expect(error).toBeInstanceOf(CronScheduleError);
    expect(error.message).toContain('Mars/Olympus');
  });
});

// The Quartz CronTrigger tutorial's table is checked through the preview route (test/schedules.e2e-spec.ts).
describe('Quartz day-of-month: L, L-n, W and LW', () => {
  it('L-n counts back from the last day of each month, February included', () => {
    expect(runs('0 0 12 L-3 * ?', '2026-02-01T00:00:00Z', 1)).toEqual(at('12:00', '2026-02-25'));
    expect(runs('0 0 12 L-3 * ?', '2028-02-01T00:00:00Z', 1)).toEqual(at('12:00', '2028-02-26'));
  });

  it('L-28 is the 1st of a leap February and does not exist in a 28-day February', () => {
    expect(runs('0 0 12 L-28 * ?', '2026-01-15T00:00:00Z', 2)).toEqual(at('12:00', '2026-03-03', '2026-04-02'));
    expect(runs('0 0 12 L-28 * ?', '2028-01-15T00:00:00Z', 2)).toEqual(at('12:00', '2028-02-01', '2028-03-03'));
  });

  it('L-30 fires only in 31-day months, on their 1st', () => {
    expect(runs('0 0 12 L-30 * ?', NEW_YEAR_2026, 8)).toEqual(
      at(
        '12:00',
        '2026-01-01',
        '2026-03-01',
        '2026-05-01',
        '2026-07-01',
        '2026-08-01',
        '2026-10-01',
        '2026-12-01',
        '2027-01-01',
      ),
    );
  });

  it('L-30 in February never fires, and the search ends', () => {
    expect(runs('0 0 12 L-30 2 ?', NEW_YEAR_2026, 1)).toEqual([]);
  });

  it('L-0 is the last day', () => {
    expect(runs('0 0 12 L-0 * ?', NEW_YEAR_2026, 2)).toEqual(at('12:00', '2026-01-31', '2026-02-28'));
  });

  it('L-n takes the last day of the month in the schedule time zone', () => {
    // 30 Jan 01:00 in Tokyo (+09:00) is still 29 Jan in UTC; 30 Jan 23:00 in Los Angeles (-08:00) is 31 Jan in UTC.
    expect(runs('0 0 1 L-1 * ?', NEW_YEAR_2026, 2, 'Asia/Tokyo')).toEqual(utc('2026-01-29T16:00', '2026-02-26T16:00'));
    expect(runs('0 0 23 L-1 * ?', NEW_YEAR_2026, 2, 'America/Los_Angeles')).toEqual(
      utc('2026-01-31T07:00', '2026-02-28T07:00'),
    );
  });

  it('15W moves a Saturday to Friday the 14th and a Sunday to Monday the 16th', () => {
    // 2026: 15 Feb and 15 Mar are Sundays, 15 Aug is a Saturday.
    expect(runs('0 0 12 15W * ?', NEW_YEAR_2026, 8)).toEqual(
      at(
        '12:00',
        '2026-01-15',
        '2026-02-16',
        '2026-03-16',
        '2026-04-15',
        '2026-05-15',
        '2026-06-15',
        '2026-07-15',
        '2026-08-14',
      ),
    );
  });

  it('1W never leaves the month: Saturday the 1st fires on Monday the 3rd', () => {
    // 2026: 1 Feb and 1 Mar are Sundays, 1 Aug is a Saturday.
    expect(runs('0 0 12 1W * ?', NEW_YEAR_2026, 8)).toEqual(
      at(
        '12:00',
        '2026-01-01',
        '2026-02-02',
        '2026-03-02',
        '2026-04-01',
        '2026-05-01',
        '2026-06-01',
        '2026-07-01',
        '2026-08-03',
      ),
    );
  });

  it('31W never leaves the month: Sunday the 31st fires on Friday the 29th', () => {
    expect(runs('0 0 12 31W * ?', '2026-05-01T00:00:00Z', 1)).toEqual(at('12:00', '2026-05-29'));
    expect(runs('0 0 12 31W * ?', '2026-10-01T00:00:00Z', 1)).toEqual(at('12:00', '2026-10-30'));
  });

  it('LW is the last weekday of the month', () => {
    // 2026: 31 Jan and 28 Feb are Saturdays, 31 May is a Sunday.
    expect(runs('0 0 12 LW * ?', NEW_YEAR_2026, 8)).toEqual(
      at(
        '12:00',
        '2026-01-30',
        '2026-02-27',
        '2026-03-31',
        '2026-04-30',
        '2026-05-29',
        '2026-06-30',
        '2026-07-31',
        '2026-08-31',
      ),
    );
  });

  it('L-nW (which Quartz also accepts) is the weekday nearest n days before the last', () => {
    // 2026: 28 Jan and 25 Feb are Wednesdays, 28 Mar a Saturday, 27 Apr a Monday.
    expect(runs('0 0 12 L-3W * ?', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-01-28', '2026-02-25', '2026-03-27', '2026-04-27'),
    );
  });
});

// Our rule: nW fires on the weekday nearest the n-th within that month, and a month without an n-th is
// skipped, as a plain n is. Quartz 2.3.2 is inconsistent here (its answer depends on the weekday after
// the month's end), so these instants come from the rule and a calendar, not from Quartz.
describe('Quartz nW at the edges of the month', () => {
  it.each<[string, string, string, number, string[]]>([
    [
      '31W fires only in months with a 31st (2026)',
      '0 0 12 31W * ?',
      NEW_YEAR_2026,
      7,
      at('12:00', '2026-01-30', '2026-03-31', '2026-05-29', '2026-07-31', '2026-08-31', '2026-10-30', '2026-12-31'),
    ],
    [
      '31W fires only in months with a 31st (2027)',
      '0 0 12 31W * ?',
      '2027-01-01T00:00:00Z',
      7,
      at('12:00', '2027-01-29', '2027-03-31', '2027-05-31', '2027-07-30', '2027-08-31', '2027-10-29', '2027-12-31'),
    ],
    // 1 May 2027 and 1 Jul 2028 are Saturdays: the 30-day month before each is skipped all the same.
    ['31W skips April 2027', '0 0 12 31W * ?', '2027-04-01T00:00:00Z', 1, at('12:00', '2027-05-31')],
    ['31W skips June 2028', '0 0 12 31W * ?', '2028-06-01T00:00:00Z', 1, at('12:00', '2028-07-31')],
    // 29 Feb 2028 is a Tuesday; 29 Feb 2032 a Sunday and the last day, so the Friday before.
    [
      '29W in February fires in leap years only',
      '0 0 12 29W 2 ?',
      NEW_YEAR_2026,
      2,
      at('12:00', '2028-02-29', '2032-02-27'),
    ],
    [
      '29W skips a 28-day February (1 Mar 2027 is a Monday)',
      '0 0 12 29W * ?',
      '2027-02-01T00:00:00Z',
      1,
      at('12:00', '2027-03-29'),
    ],
    ['30W skips a leap February', '0 0 12 30W * ?', '2028-02-01T00:00:00Z', 1, at('12:00', '2028-03-30')],
    ['30W in February never fires, and the search ends', '0 0 12 30W 2 ?', NEW_YEAR_2026, 1, []],
    // 28 Feb: 2026 a Saturday, 2027 a Sunday and the last day, 2028 a Monday.
    [
      '28W stays in February',
      '0 0 12 28W 2 ?',
      NEW_YEAR_2026,
      3,
      at('12:00', '2026-02-27', '2027-02-26', '2028-02-28'),
    ],
    // 30 Apr 2028 is a Sunday and the last day; 30 May 2028 a Tuesday.
    [
      '30W on a Sunday that ends the month fires on Friday the 28th',
      '0 0 12 30W * ?',
      '2028-04-01T00:00:00Z',
      2,
      at('12:00', '2028-04-28', '2028-05-30'),
    ],
    // 1 May 2027 is a Saturday, 1 Aug 2027 a Sunday.
    [
      '1W stays in the month',
      '0 0 12 1W * ?',
      '2027-04-15T00:00:00Z',
      4,
      at('12:00', '2027-05-03', '2027-06-01', '2027-07-01', '2027-08-02'),
    ],
  ])('%s: %s', (_rule, cron, from, count, expected) => {
    expect(runs(cron, from, count)).toEqual(expected);
  });

  /** Quartz's W by another road: the weekday of the month closest to day n, or none when the month has no n-th. */
  function nearestWeekdayWithinMonth(year: number, month: number, n: number): string | undefined {
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (n > lastDay) return undefined;
    const weekdays = Array.from(
      { length: lastDay },
      (_, index) => new Date(Date.UTC(year, month - 1, index + 1)),
    ).filter((date) => date.getUTCDay() !== 0 && date.getUTCDay() !== 6);
    const distance = (date: Date) => Math.abs(date.getUTCDate() - n);
    const nearest = weekdays.reduce((best, date) => (distance(date) < distance(best) ? date : best));
    return at('12:00', nearest.toISOString().slice(0, 10))[0];
  }

  it.each(Array.from({ length: 31 }, (_, index) => index + 1))(
    '%iW matches the nearest weekday within the month in every month of 2026-2028',
    (n) => {
      const expected = [2026, 2027, 2028].flatMap((year) =>
        Array.from({ length: 12 }, (_, index) => nearestWeekdayWithinMonth(year, index + 1, n)),
      );
      const inThoseYears = runs(`0 0 12 ${n}W * ?`, NEW_YEAR_2026, 37).filter((instant) => instant < '2029');
      expect(inThoseYears).toEqual(expected.filter((instant) => instant !== undefined));
    },
  );
});

describe('Quartz day-of-week', () => {
  it.each<[string, string[]]>([
    ['0 0 12 ? * 1', at('12:00', '2026-01-04', '2026-01-11')],
    ['0 0 12 ? * SUN', at('12:00', '2026-01-04', '2026-01-11')],
    ['0 0 12 ? * 2', at('12:00', '2026-01-05', '2026-01-12')],
    ['0 0 12 ? * MON', at('12:00', '2026-01-05', '2026-01-12')],
    ['0 0 12 ? * 7', at('12:00', '2026-01-03', '2026-01-10')],
    ['0 0 12 ? * SAT', at('12:00', '2026-01-03', '2026-01-10')],
    ['0 0 12 ? * L', at('12:00', '2026-01-03', '2026-01-10')],
  ])('numbers weekdays 1 = Sunday … 7 = Saturday: %s', (cron, expected) => {
    expect(runs(cron, NEW_YEAR_2026, 2)).toEqual(expected);
  });

  it('reads 1-5 as Sunday to Thursday, not Monday to Friday', () => {
    expect(runs('0 0 12 ? * 1-5', NEW_YEAR_2026, 6)).toEqual(
      at('12:00', '2026-01-01', '2026-01-04', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08'),
    );
  });

  it('reads 6L and FRIL alike as the last Friday', () => {
    const lastFridays = at('12:00', '2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24');
    expect(runs('0 0 12 ? * 6L', NEW_YEAR_2026, 4)).toEqual(lastFridays);
    expect(runs('0 0 12 ? * FRIL', NEW_YEAR_2026, 4)).toEqual(lastFridays);
  });

  it('reads 2#1 and MON#1 as the first Monday', () => {
    const firstMondays = at('12:00', '2026-01-05', '2026-02-02', '2026-03-02', '2026-04-06');
    expect(runs('0 0 12 ? * 2#1', NEW_YEAR_2026, 4)).toEqual(firstMondays);
    expect(runs('0 0 12 ? * MON#1', NEW_YEAR_2026, 4)).toEqual(firstMondays);
  });

  it('skips the months without a fifth Monday for MON#5', () => {
    expect(runs('0 0 12 ? * MON#5', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-03-30', '2026-06-29', '2026-08-31', '2026-11-30'),
    );
  });

  it('wraps FRI-MON and 6-2 around the end of the week', () => {
    const fridayToMonday = at('12:00', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-09');
    expect(runs('0 0 12 ? * FRI-MON', NEW_YEAR_2026, 5)).toEqual(fridayToMonday);
    expect(runs('0 0 12 ? * 6-2', NEW_YEAR_2026, 5)).toEqual(fridayToMonday);
  });

  it('steps through Quartz weekday numbers: 2/2 is Mon, Wed, Fri and */2 is Sun, Tue, Thu, Sat', () => {
    expect(runs('0 0 12 ? * 2/2', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-01-02', '2026-01-05', '2026-01-07', '2026-01-09'),
    );
    expect(runs('0 0 12 ? * */2', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-01-01', '2026-01-03', '2026-01-04', '2026-01-06'),
    );
  });

  it('steps through a wrapped range: 6-2/2 is Friday and Sunday', () => {
    expect(runs('0 0 12 ? * 6-2/2', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-01-02', '2026-01-04', '2026-01-09', '2026-01-11'),
    );
  });

  it('accepts a list of names', () => {
    expect(runs('0 0 12 ? * MON,WED,FRI', NEW_YEAR_2026, 4)).toEqual(
      at('12:00', '2026-01-02', '2026-01-05', '2026-01-07', '2026-01-09'),
    );
  });
});

describe('Quartz seconds, minutes, hours, months and years', () => {
  it('reads a/n as "from a, every n"', () => {
    expect(runs('5/15 0 12 * * ?', NEW_YEAR_2026, 5)).toEqual(
      utc(
        '2026-01-01T12:00:05',
        '2026-01-01T12:00:20',
        '2026-01-01T12:00:35',
        '2026-01-01T12:00:50',
        '2026-01-02T12:00:05',
      ),
    );
  });

  it('reads 7/6 in the month field as July only', () => {
    expect(runs('0 0 12 1 7/6 ?', NEW_YEAR_2026, 2)).toEqual(at('12:00', '2026-07-01', '2027-07-01'));
  });

  it('reads /n (which Quartz also accepts) as */n', () => {
    expect(runs('0 /15 12 * * ?', NEW_YEAR_2026, 5)).toEqual(
      utc('2026-01-01T12:00', '2026-01-01T12:15', '2026-01-01T12:30', '2026-01-01T12:45', '2026-01-02T12:00'),
    );
  });

  it.each<[string, string, string, number, string[]]>([
    [
      'seconds',
      '58-1 0 12 * * ?',
      NEW_YEAR_2026,
      5,
      utc(
        '2026-01-01T12:00:00',
        '2026-01-01T12:00:01',
        '2026-01-01T12:00:58',
        '2026-01-01T12:00:59',
        '2026-01-02T12:00',
      ),
    ],
    [
      'minutes',
      '0 58-1 12 * * ?',
      NEW_YEAR_2026,
      5,
      utc('2026-01-01T12:00', '2026-01-01T12:01', '2026-01-01T12:58', '2026-01-01T12:59', '2026-01-02T12:00'),
    ],
    // 30-2 is the 30th, 31st, 1st and 2nd: February has only the 1st and 2nd of them.
    [
      'days of the month',
      '0 0 12 30-2 * ?',
      '2026-01-29T00:00:00Z',
      7,
      at('12:00', '2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02', '2026-03-01', '2026-03-02', '2026-03-30'),
    ],
  ])('wraps a backwards range of %s around, as Quartz does: %s', (_field, cron, from, count, expected) => {
    expect(runs(cron, from, count)).toEqual(expected);
  });

  it('wraps 22-2 in hours past midnight', () => {
    expect(runs('0 0 22-2 * * ?', NEW_YEAR_2026, 6)).toEqual(
      utc(
        '2026-01-01T01:00',
        '2026-01-01T02:00',
        '2026-01-01T22:00',
        '2026-01-01T23:00',
        '2026-01-02T00:00',
        '2026-01-02T01:00',
      ),
    );
  });

  it('steps through a wrapped hour range: 22-2/2 is 22:00, 00:00 and 02:00', () => {
    expect(runs('0 0 22-2/2 * * ?', NEW_YEAR_2026, 4)).toEqual(
      utc('2026-01-01T02:00', '2026-01-01T22:00', '2026-01-02T00:00', '2026-01-02T02:00'),
    );
  });

  it('reads month names, lists and wrapped ranges', () => {
    expect(runs('0 0 12 1 JAN,JUL ?', NEW_YEAR_2026, 3)).toEqual(at('12:00', '2026-01-01', '2026-07-01', '2027-01-01'));
    expect(runs('0 0 12 1 NOV-FEB ?', '2026-01-15T00:00:00Z', 5)).toEqual(
      at('12:00', '2026-02-01', '2026-11-01', '2026-12-01', '2027-01-01', '2027-02-01'),
    );
  });

  it('reads year lists, ranges and steps, and stops when the years run out', () => {
    expect(runs('0 0 12 1 1 ? 2027,2029', NEW_YEAR_2026, 3)).toEqual(at('12:00', '2027-01-01', '2029-01-01'));
    expect(runs('0 0 12 1 1 ? 2027-2029', NEW_YEAR_2026, 5)).toEqual(
      at('12:00', '2027-01-01', '2028-01-01', '2029-01-01'),
    );
    expect(runs('0 0 12 1 1 ? 2026/2', NEW_YEAR_2026, 3)).toEqual(
      at('12:00', '2026-01-01', '2028-01-01', '2030-01-01'),
    );
  });

  it('is case-insensitive, as Quartz is', () => {
    expect(runs('0 0 12 lw * ?', NEW_YEAR_2026, 1)).toEqual(at('12:00', '2026-01-30'));
    expect(runs('0 0 12 15w * ?', '2026-02-01T00:00:00Z', 1)).toEqual(at('12:00', '2026-02-16'));
    expect(runs('0 0 12 l-2 * ?', NEW_YEAR_2026, 1)).toEqual(at('12:00', '2026-01-29'));
    expect(runs('0 0 12 ? * fril', NEW_YEAR_2026, 1)).toEqual(at('12:00', '2026-01-30'));
    expect(runs('0 0 12 ? * mon#1', NEW_YEAR_2026, 1)).toEqual(at('12:00', '2026-01-05'));
    expect(runs('0 0 12 1 jan,jul ?', '2026-01-02T00:00:00Z', 1)).toEqual(at('12:00', '2026-07-01'));
  });
});

describe('@nestjs/schedule syntax (no "?")', () => {
  it.each<[string, string, number, string[]]>([
    ['0 7 * * 0', NEW_YEAR_2026, 2, at('07:00', '2026-01-04', '2026-01-11')],
    ['0 7 * * 7', NEW_YEAR_2026, 2, at('07:00', '2026-01-04', '2026-01-11')],
    ['0 0 12 * * 1', NEW_YEAR_2026, 2, at('12:00', '2026-01-05', '2026-01-12')],
    ['30 8 * * 1-5', NEW_YEAR_2026, 4, at('08:30', '2026-01-01', '2026-01-02', '2026-01-05', '2026-01-06')],
    [
      '*/20 * * * * *',
      NEW_YEAR_2026,
      4,
      utc('2026-01-01T00:00:20', '2026-01-01T00:00:40', '2026-01-01T00:01:00', '2026-01-01T00:01:20'),
    ],
    // Day-of-month and day-of-week both restricted: either one matches (the 13th, or any Friday).
    ['0 12 13 * 5', NEW_YEAR_2026, 4, at('12:00', '2026-01-02', '2026-01-09', '2026-01-13', '2026-01-16')],
    ['0 0 12 13 * 5', NEW_YEAR_2026, 4, at('12:00', '2026-01-02', '2026-01-09', '2026-01-13', '2026-01-16')],
  ])('%s after %s (count %d)', (cron, from, count, expected) => {
    expect(runs(cron, from, count)).toEqual(expected);
  });
});

describe('time zones and daylight saving', () => {
  it.each<[string, string, string[]]>([
    // Berlin: CET +01:00 until 29 Mar 2026, CEST +02:00 until 25 Oct 2026.
    ['Europe/Berlin', '2026-03-27T12:00:00Z', utc('2026-03-28T06:00', '2026-03-29T05:00', '2026-03-30T05:00')],
    ['Europe/Berlin', '2026-10-23T12:00:00Z', utc('2026-10-24T05:00', '2026-10-25T06:00', '2026-10-26T06:00')],
    // New York: EST -05:00 until 8 Mar 2026, EDT -04:00 until 1 Nov 2026.
    ['America/New_York', '2026-03-06T12:00:00Z', utc('2026-03-07T12:00', '2026-03-08T11:00', '2026-03-09T11:00')],
    ['America/New_York', '2026-10-30T12:00:00Z', utc('2026-10-31T11:00', '2026-11-01T12:00', '2026-11-02T12:00')],
    // Adelaide: ACDT +10:30 until 5 Apr 2026, ACST +09:30 until 4 Oct 2026; 07:00 there is the previous UTC day.
    ['Australia/Adelaide', '2026-04-02T12:00:00Z', utc('2026-04-02T20:30', '2026-04-03T20:30', '2026-04-04T21:30')],
    ['Australia/Adelaide', '2026-10-01T12:00:00Z', utc('2026-10-01T21:30', '2026-10-02T21:30', '2026-10-03T20:30')],
    // St. John's: NST -03:30 until 8 Mar 2026, NDT -02:30 until 1 Nov 2026.
    ['America/St_Johns', '2026-03-06T12:00:00Z', utc('2026-03-07T10:30', '2026-03-08T09:30', '2026-03-09T09:30')],
    ['America/St_Johns', '2026-10-30T12:00:00Z', utc('2026-10-31T09:30', '2026-11-01T10:30', '2026-11-02T10:30')],
  ])('keeps 0 0 7 * * ? at 07:00 local in %s across the change after %s', (timeZone, from, expected) => {
    expect(runs('0 0 7 * * ?', from, 3, timeZone)).toEqual(expected);
  });

  it('does not fire 02:30 on the spring-forward day in Berlin (02:30 does not exist), as Quartz 2.3 does', () => {
    expect(runs('0 30 2 * * ?', '2026-03-27T12:00:00Z', 3, 'Europe/Berlin')).toEqual(
      utc('2026-03-28T01:30', '2026-03-30T00:30', '2026-03-31T00:30'),
    );
  });

  it('fires each wall time of a stepped schedule once in the repeated fall-back hour, as Quartz does', () => {
    // Berlin, 25 Oct 2026: 02:00-02:59 CEST (00:00-00:59Z) and again CET (01:00-01:59Z); 4 fires, not 8.
    expect(runs('0 0/15 2 * * ?', '2026-10-24T12:00:00Z', 5, 'Europe/Berlin')).toEqual(
      utc('2026-10-25T00:00', '2026-10-25T00:15', '2026-10-25T00:30', '2026-10-25T00:45', '2026-10-26T01:00'),
    );
  });

  it('keeps croner (Vixie cron) behaviour for @nestjs/schedule syntax: 02:30 fires at 03:00 CEST, the end of the gap', () => {
    expect(runs('30 2 * * *', '2026-03-27T12:00:00Z', 3, 'Europe/Berlin')).toEqual(
      utc('2026-03-28T01:30', '2026-03-29T01:00', '2026-03-30T00:30'),
    );
  });

  it('fires 02:30 on the fall-back day in Berlin once, although 02:30 happens twice', () => {
    const [onFallBack, ...after] = runs('0 30 2 * * ?', '2026-10-24T12:00:00Z', 3, 'Europe/Berlin');
    // 02:30 CEST = 00:30 UTC, 02:30 CET = 01:30 UTC: one of them, not both.
    expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(onFallBack);
    expect(after).toEqual(utc('2026-10-26T01:30', '2026-10-27T01:30'));
  });

  it('fires each repeated wall time of the fall-back hour once, also for a list of minutes', () => {
    // 02:00 and 02:30 happen twice on 25 Oct 2026 in Berlin (CEST 00:00Z/00:30Z, then CET 01:00Z/01:30Z).
    const next = runs('0 0,30 2 * * ?', '2026-10-24T12:00:00Z', 4, 'Europe/Berlin');
    expect(next.slice(0, 2).map((instant) => instant.slice(0, 10))).toEqual(['2026-10-25', '2026-10-25']);
    expect(next.slice(0, 2).map((instant) => instant.slice(14, 16))).toEqual(['00', '30']);
    expect(next.slice(2)).toEqual(utc('2026-10-26T01:00', '2026-10-26T01:30'));
  });
});

describe('nextAfter', () => {
  it('returns the first fire time strictly after the instant', () => {
    const schedule = CronSchedule.parse('0 0 12 * * ?');
    expect(schedule.nextAfter(new Date('2026-01-01T12:00:00.000Z'))?.toISOString()).toBe('2026-01-02T12:00:00.000Z');
    expect(schedule.nextAfter(new Date('2026-01-01T11:59:59.999Z'))?.toISOString()).toBe('2026-01-01T12:00:00.000Z');
  });

  it('returns null when the expression never fires again', () => {
    expect(CronSchedule.parse('0 15 10 * * ? 2005').nextAfter(new Date(NEW_YEAR_2026))).toBeNull();
  });

  it('nextRuns does not return the instant it starts from', () => {
    expect(runs('0 0 12 * * ?', '2026-01-01T12:00:00Z', 2)).toEqual(at('12:00', '2026-01-02', '2026-01-03'));
  });
});

describe('searchNextRuns: a search with a bound on its work', () => {
  function search(cron: string, from: string, count: number, maxCandidates: number, timeZone = 'UTC') {
    const { runs: found, searchedUntil } = CronSchedule.parse(cron, timeZone).searchNextRuns(
      count,
      new Date(from),
      maxCandidates,
    );
    return { runs: found.map((instant) => instant.toISOString()), searchedUntil: searchedUntil?.toISOString() };
  }

  it('finds what nextRuns finds when the bound is not reached, and does not say searchedUntil', () => {
    expect(search('0 0 12 L-3W * ?', NEW_YEAR_2026, 4, 20)).toEqual({
      runs: at('12:00', '2026-01-28', '2026-02-25', '2026-03-27', '2026-04-27'),
      searchedUntil: undefined,
    });
  });

  it.each<[string, string, string]>([
    ['0 0 12 L-28 2 ?', 'UTC', NEW_YEAR_2026],
    ['0 0 12 L-28W * ?', 'UTC', NEW_YEAR_2026],
    ['0 0/30 0-1 L-2 * ?', 'Europe/Berlin', '2026-03-15T00:00:00Z'],
    ['0 30 2 * * ?', 'Europe/Berlin', '2026-03-27T12:00:00Z'],
    ['0 0 12 ? 2 2#5', 'UTC', NEW_YEAR_2026],
  ])(
    'stops at the bound with every fire time up to searchedUntil and none missing: %s in %s',
    (cron, timeZone, from) => {
      const all = runs(cron, from, 25, timeZone);
      for (const maxCandidates of [1, 2, 3, 7, 20]) {
        const { runs: found, searchedUntil } = search(cron, from, 25, maxCandidates, timeZone);
        expect(searchedUntil).toEqual(expect.any(String));
        expect(found).toEqual(all.filter((instant) => instant <= (searchedUntil as string)));
        expect(all.find((instant) => instant > (searchedUntil as string))).toBeDefined();
      }
    },
  );

  it('weighs one proposal a year for an L-n that no February has, even with seconds: it leaps over the days it is not', () => {
    // Croner proposes 1 and 2 February (every second of them, for "* * *"); neither is ever L-29.
    for (const cron of ['0 0 0 L-29 2 ?', '* * * L-29 2 ?']) {
      expect(search(cron, NEW_YEAR_2026, 1, 10)).toEqual({ runs: [], searchedUntil: '2035-03-01T23:59:59.999Z' });
    }
  });

  it('leaves the searches of the timers unbounded: a leap-day job still finds its next fire time', () => {
    expect(CronSchedule.parse('0 0 12 29 2 ?').nextAfter(new Date(NEW_YEAR_2026))?.toISOString()).toBe(
      '2028-02-29T12:00:00.000Z',
    );
    // 29 February is a Monday in 2072, then not until 2112 (2100 is no leap year).
    expect(CronSchedule.parse('0 0 12 ? 2 2#5').nextAfter(new Date('2073-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2112-02-29T12:00:00.000Z',
    );
    expect(CronSchedule.parse('0 0 0 L-29 2 ?').nextAfter(new Date(NEW_YEAR_2026))).toBeNull();
  });

  it('finds the last L-n fire time before an instant by whole days: every second of three days before it is not', () => {
    // May 2026 has 31 days: L-3 is the 28th.
    expect(CronSchedule.parse('* * * L-3 * ?').previousBefore(new Date('2026-06-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-05-28T23:59:59.000Z',
    );
  });
});

describe('CronScheduleError names the field and the token', () => {
  it.each<[string, string[]]>([
    // Every field is checked by Quartz's rules (the full table is in quartz-fields.spec.ts), this one for instance.
    ['0 0 12 * * ? 2030-2027', ['year', '"2030-2027"']],
    ['0 0 12 ? * ?', ['"?"', 'day-of-month', 'day-of-week']],
    ['0 12 ? * MON', ['6 or 7 fields', '5']],
    ['0 0 12 * * ? 2027 1', ['6 or 7 fields', '8']],
    ['0 0 12 * * * 2027 1', ['8 fields']],
    ['every day at noon', ['4 fields']],
    ['', ['1 fields']],
  ])('rejects "%s"', (cron, fragments) => {
    const { message } = parseError(cron);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it.each([['0 7 * * 8'], ['61 * * * *'], ['hello world foo bar baz']])(
    'rejects "%s" as @nestjs/schedule syntax, quoting it',
    (cron) => {
      expect(parseError(cron).message).toContain(`"${cron}"`);
    },
  );
});

describe('nicknames and options beyond Quartz', () => {
  it('reads @daily and @hourly as @nestjs/schedule does', () => {
    const daily = CronSchedule.parse('@daily', 'UTC');
    expect(daily.quartz).toBe(false);
    expect(daily.nextRuns(2, new Date('2026-01-01T10:00:00Z')).map((run) => run.toISOString())).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
    expect(CronSchedule.parse('@hourly').nextAfter(new Date('2026-01-01T10:15:00Z'))?.toISOString()).toBe(
      '2026-01-01T11:00:00.000Z',
    );
  });
});

describe('the last answer kept per count', () => {
  const iso = (instants: Date[]) => instants.map((instant) => instant.toISOString());

  it('answers as a fresh schedule would, before, on and after its first fire time', () => {
    const kept = CronSchedule.parse('0 0 * * * ?', 'UTC');
    for (const from of [
      '2026-01-01T10:15:00Z',
      '2026-01-01T10:59:59Z',
      '2026-01-01T11:00:00Z',
      '2026-01-01T10:00:00Z',
    ]) {
      const fresh = CronSchedule.parse('0 0 * * * ?', 'UTC');

      expect(iso(kept.nextRuns(3, new Date(from)))).toEqual(iso(fresh.nextRuns(3, new Date(from))));
    }
  });

  it('does not search a schedule that never fires again', () => {
    const never = CronSchedule.parse('0 0 0 30 2 ?', 'UTC');
    const search = jest.spyOn(never, 'searchNextRuns');

    expect(never.nextRuns(5, new Date('2026-01-01T00:00:00Z'))).toEqual([]);
    expect(never.nextRuns(5, new Date('2026-06-01T00:00:00Z'))).toEqual([]);

    expect(search).toHaveBeenCalledTimes(1);
  });

  it('hands out copies, so a caller cannot change the next answer', () => {
    const hourly = CronSchedule.parse('0 0 * * * ?', 'UTC');
    hourly.nextRuns(2, new Date('2026-01-01T10:15:00Z')).pop();

    expect(hourly.nextRuns(2, new Date('2026-01-01T10:16:00Z'))).toHaveLength(2);
  });
});
