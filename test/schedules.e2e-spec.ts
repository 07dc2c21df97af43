import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';

// Every expected instant below was worked out by hand from a calendar of the year in question
// (weekdays checked with `date -d`, UTC offsets from the IANA rules), never copied from the endpoint.

/** The same UTC time of day on each date: at('10:15', '2026-01-30') → ['2026-01-30T10:15:00.000Z']. */
function at(time: string, ...dates: string[]): string[] {
  const withSeconds = time.length === 5 ? `${time}:00` : time;
  return dates.map((date) => `${date}T${withSeconds}.000Z`);
}

/** Full instants written without seconds or milliseconds: utc('2026-01-01T14:58') → ['2026-01-01T14:58:00.000Z']. */
function utc(...stamps: string[]): string[] {
  return stamps.map((stamp) => `${stamp.length === 16 ? `${stamp}:00` : stamp}.000Z`);
}

const NEW_YEAR_2026 = '2026-01-01T00:00:00Z'; // a Thursday

describe('GET /api/schedules/preview', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });

  afterAll(async () => {
    await server.close();
  });

  async function preview(query: Record<string, string | number>): Promise<string[]> {
    const { body } = await request(server.url).get('/api/schedules/preview').query(query).expect(200);
    expect(body).toEqual({ cron: query.cron, timeZone: query.timeZone ?? 'UTC', next: expect.any(Array) });
    return body.next;
  }

  async function problem(query: Record<string, string | number>): Promise<string> {
    const { body } = await request(server.url).get('/api/schedules/preview').query(query).expect(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message).toEqual(expect.any(Array));
    return body.message.join(' ');
  }

  describe('the Quartz CronTrigger tutorial examples', () => {
    it.each<[string, string, number, string[]]>([
      ['0 0 12 * * ?', NEW_YEAR_2026, 3, at('12:00', '2026-01-01', '2026-01-02', '2026-01-03')],
      ['0 15 10 ? * *', NEW_YEAR_2026, 3, at('10:15', '2026-01-01', '2026-01-02', '2026-01-03')],
      ['0 15 10 * * ?', NEW_YEAR_2026, 3, at('10:15', '2026-01-01', '2026-01-02', '2026-01-03')],
      ['0 15 10 * * ? *', NEW_YEAR_2026, 3, at('10:15', '2026-01-01', '2026-01-02', '2026-01-03')],
      ['0 15 10 * * ? 2005', NEW_YEAR_2026, 5, []],
      ['0 15 10 * * ? 2005', '2005-12-30T00:00:00Z', 5, at('10:15', '2005-12-30', '2005-12-31')],
      [
        '0 * 14 * * ?',
        '2026-01-01T14:57:00Z',
        5,
        utc('2026-01-01T14:58', '2026-01-01T14:59', '2026-01-02T14:00', '2026-01-02T14:01', '2026-01-02T14:02'),
      ],
      [
        '0 0/5 14 * * ?',
        '2026-01-01T14:45:00Z',
        5,
        utc('2026-01-01T14:50', '2026-01-01T14:55', '2026-01-02T14:00', '2026-01-02T14:05', '2026-01-02T14:10'),
      ],
      [
        '0 0/5 14,18 * * ?',
        '2026-01-01T14:50:00Z',
        4,
        utc('2026-01-01T14:55', '2026-01-01T18:00', '2026-01-01T18:05', '2026-01-01T18:10'),
      ],
      ['0 0/5 14,18 * * ?', '2026-01-01T18:50:00Z', 3, utc('2026-01-01T18:55', '2026-01-02T14:00', '2026-01-02T14:05')],
      [
        '0 0-5 14 * * ?',
        NEW_YEAR_2026,
        7,
        utc(
          '2026-01-01T14:00',
          '2026-01-01T14:01',
          '2026-01-01T14:02',
          '2026-01-01T14:03',
          '2026-01-01T14:04',
          '2026-01-01T14:05',
          '2026-01-02T14:00',
        ),
      ],
      [
        // The Wednesdays of March 2026 are the 4th, 11th, 18th and 25th; March 2027 starts on Wednesday the 3rd.
        '0 10,44 14 ? 3 WED',
        NEW_YEAR_2026,
        10,
        utc(
          '2026-03-04T14:10',
          '2026-03-04T14:44',
          '2026-03-11T14:10',
          '2026-03-11T14:44',
          '2026-03-18T14:10',
          '2026-03-18T14:44',
          '2026-03-25T14:10',
          '2026-03-25T14:44',
          '2027-03-03T14:10',
          '2027-03-03T14:44',
        ),
      ],
      [
        '0 15 10 ? * MON-FRI',
        NEW_YEAR_2026,
        6,
        at('10:15', '2026-01-01', '2026-01-02', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08'),
      ],
      ['0 15 10 15 * ?', NEW_YEAR_2026, 3, at('10:15', '2026-01-15', '2026-02-15', '2026-03-15')],
      ['0 15 10 L * ?', NEW_YEAR_2026, 4, at('10:15', '2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30')],
      ['0 15 10 L * ?', '2028-02-01T00:00:00Z', 1, at('10:15', '2028-02-29')],
      ['0 15 10 L-2 * ?', NEW_YEAR_2026, 4, at('10:15', '2026-01-29', '2026-02-26', '2026-03-29', '2026-04-28')],
      [
        // The last Friday of each month of 2026.
        '0 15 10 ? * 6L',
        NEW_YEAR_2026,
        12,
        at(
          '10:15',
          '2026-01-30',
          '2026-02-27',
          '2026-03-27',
          '2026-04-24',
          '2026-05-29',
          '2026-06-26',
          '2026-07-31',
          '2026-08-28',
          '2026-09-25',
          '2026-10-30',
          '2026-11-27',
          '2026-12-25',
        ),
      ],
      ['0 15 10 ? * 6L 2002-2005', NEW_YEAR_2026, 5, []],
      ['0 15 10 ? * 6L 2002-2005', '2005-10-01T00:00:00Z', 5, at('10:15', '2005-10-28', '2005-11-25', '2005-12-30')],
      [
        '0 15 10 ? * 6#3',
        NEW_YEAR_2026,
        6,
        at('10:15', '2026-01-16', '2026-02-20', '2026-03-20', '2026-04-17', '2026-05-15', '2026-06-19'),
      ],
      [
        '0 0 12 1/5 * ?',
        NEW_YEAR_2026,
        9,
        at(
          '12:00',
          '2026-01-01',
          '2026-01-06',
          '2026-01-11',
          '2026-01-16',
          '2026-01-21',
          '2026-01-26',
          '2026-01-31',
          '2026-02-01',
          '2026-02-06',
        ),
      ],
      ['0 11 11 11 11 ?', NEW_YEAR_2026, 3, at('11:11', '2026-11-11', '2027-11-11', '2028-11-11')],
    ])('%s after %s (count %d)', async (cron, from, count, expected) => {
      await expect(preview({ cron, from, count })).resolves.toEqual(expected);
    });
  });

  describe('special characters beyond the table', () => {
    it.each<[string, string, string, number, string[]]>([
      [
        'LW: 31 Jan and 28 Feb are Saturdays, 31 May a Sunday',
        '0 0 12 LW * ?',
        NEW_YEAR_2026,
        8,
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
      ],
      [
        '15W: 15 Feb and 15 Mar are Sundays, 15 Aug a Saturday',
        '0 0 12 15W * ?',
        NEW_YEAR_2026,
        8,
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
      ],
      [
        '1W: Saturday 1 Aug fires on Monday the 3rd, not in July',
        '0 0 12 1W * ?',
        NEW_YEAR_2026,
        8,
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
      ],
      [
        '31W: Sunday 31 May fires on Friday the 29th',
        '0 0 12 31W * ?',
        '2026-05-01T00:00:00Z',
        1,
        at('12:00', '2026-05-29'),
      ],
      [
        '31W: Saturday 31 Oct fires on Friday the 30th',
        '0 0 12 31W * ?',
        '2026-10-01T00:00:00Z',
        1,
        at('12:00', '2026-10-30'),
      ],
      ['L-3 in a 28-day February', '0 0 12 L-3 * ?', '2026-02-01T00:00:00Z', 1, at('12:00', '2026-02-25')],
      ['L-3 in a 29-day February', '0 0 12 L-3 * ?', '2028-02-01T00:00:00Z', 1, at('12:00', '2028-02-26')],
      [
        'L-28 skips a 28-day February',
        '0 0 12 L-28 * ?',
        '2026-01-15T00:00:00Z',
        2,
        at('12:00', '2026-03-03', '2026-04-02'),
      ],
      [
        'L-28 is 1 Feb in a leap year',
        '0 0 12 L-28 * ?',
        '2028-01-15T00:00:00Z',
        2,
        at('12:00', '2028-02-01', '2028-03-03'),
      ],
      [
        '6L is the last Friday',
        '0 0 12 ? * 6L',
        NEW_YEAR_2026,
        4,
        at('12:00', '2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24'),
      ],
      [
        'FRIL is the last Friday too',
        '0 0 12 ? * FRIL',
        NEW_YEAR_2026,
        4,
        at('12:00', '2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24'),
      ],
      [
        '2#1 is the first Monday',
        '0 0 12 ? * 2#1',
        NEW_YEAR_2026,
        4,
        at('12:00', '2026-01-05', '2026-02-02', '2026-03-02', '2026-04-06'),
      ],
      [
        'MON#5 skips months without a fifth Monday',
        '0 0 12 ? * MON#5',
        NEW_YEAR_2026,
        4,
        at('12:00', '2026-03-30', '2026-06-29', '2026-08-31', '2026-11-30'),
      ],
      ['1 is Sunday', '0 0 12 ? * 1', NEW_YEAR_2026, 2, at('12:00', '2026-01-04', '2026-01-11')],
      ['SUN is Sunday', '0 0 12 ? * SUN', NEW_YEAR_2026, 2, at('12:00', '2026-01-04', '2026-01-11')],
      ['2 is Monday', '0 0 12 ? * 2', NEW_YEAR_2026, 2, at('12:00', '2026-01-05', '2026-01-12')],
      ['7 is Saturday', '0 0 12 ? * 7', NEW_YEAR_2026, 2, at('12:00', '2026-01-03', '2026-01-10')],
      ['SAT is Saturday', '0 0 12 ? * SAT', NEW_YEAR_2026, 2, at('12:00', '2026-01-03', '2026-01-10')],
      ['L alone in day-of-week is Saturday', '0 0 12 ? * L', NEW_YEAR_2026, 2, at('12:00', '2026-01-03', '2026-01-10')],
      [
        '1-5 is Sunday to Thursday',
        '0 0 12 ? * 1-5',
        NEW_YEAR_2026,
        6,
        at('12:00', '2026-01-01', '2026-01-04', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08'),
      ],
      ['a list of years', '0 0 12 1 1 ? 2027,2029', NEW_YEAR_2026, 3, at('12:00', '2027-01-01', '2029-01-01')],
      [
        'a range of years',
        '0 0 12 1 1 ? 2027-2029',
        NEW_YEAR_2026,
        5,
        at('12:00', '2027-01-01', '2028-01-01', '2029-01-01'),
      ],
      [
        'a list of month names',
        '0 0 12 1 JAN,JUL ?',
        NEW_YEAR_2026,
        3,
        at('12:00', '2026-01-01', '2026-07-01', '2027-01-01'),
      ],
      [
        'a wrapped range of month names',
        '0 0 12 1 NOV-FEB ?',
        '2026-01-15T00:00:00Z',
        5,
        at('12:00', '2026-02-01', '2026-11-01', '2026-12-01', '2027-01-01', '2027-02-01'),
      ],
      [
        'a wrapped range of weekdays, FRI-MON',
        '0 0 12 ? * FRI-MON',
        NEW_YEAR_2026,
        5,
        at('12:00', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-09'),
      ],
      [
        'a wrapped range of hours, 22-2',
        '0 0 22-2 * * ?',
        NEW_YEAR_2026,
        6,
        utc(
          '2026-01-01T01:00',
          '2026-01-01T02:00',
          '2026-01-01T22:00',
          '2026-01-01T23:00',
          '2026-01-02T00:00',
          '2026-01-02T01:00',
        ),
      ],
    ])('%s (%s)', async (_case, cron, from, count, expected) => {
      await expect(preview({ cron, from, count })).resolves.toEqual(expected);
    });
  });

  describe('the @nestjs/schedule meaning of expressions without "?"', () => {
    it.each<[string, string, number, string[]]>([
      ['0 7 * * 0', NEW_YEAR_2026, 2, at('07:00', '2026-01-04', '2026-01-11')],
      ['0 7 * * 7', NEW_YEAR_2026, 2, at('07:00', '2026-01-04', '2026-01-11')],
      [
        '*/20 * * * * *',
        NEW_YEAR_2026,
        4,
        utc('2026-01-01T00:00:20', '2026-01-01T00:00:40', '2026-01-01T00:01:00', '2026-01-01T00:01:20'),
      ],
      ['30 8 * * 1-5', NEW_YEAR_2026, 4, at('08:30', '2026-01-01', '2026-01-02', '2026-01-05', '2026-01-06')],
      // Both day fields restricted: the 13th or any Friday.
      ['0 12 13 * 5', NEW_YEAR_2026, 4, at('12:00', '2026-01-02', '2026-01-09', '2026-01-13', '2026-01-16')],
    ])('%s after %s (count %d)', async (cron, from, count, expected) => {
      await expect(preview({ cron, from, count })).resolves.toEqual(expected);
    });
  });

  describe('time zones and daylight saving', () => {
    it.each<[string, string, string[]]>([
      // Berlin: CET +01:00 until 29 Mar 2026 02:00, CEST +02:00 until 25 Oct 2026 03:00.
      [
        'Europe/Berlin',
        '2026-03-27T12:00:00Z',
        utc('2026-03-28T06:00', '2026-03-29T05:00', '2026-03-30T05:00', '2026-03-31T05:00'),
      ],
      [
        'Europe/Berlin',
        '2026-10-23T12:00:00Z',
        utc('2026-10-24T05:00', '2026-10-25T06:00', '2026-10-26T06:00', '2026-10-27T06:00'),
      ],
      // New York: EST -05:00 until 8 Mar 2026, EDT -04:00 until 1 Nov 2026.
      [
        'America/New_York',
        '2026-03-06T12:00:00Z',
        utc('2026-03-07T12:00', '2026-03-08T11:00', '2026-03-09T11:00', '2026-03-10T11:00'),
      ],
      [
        'America/New_York',
        '2026-10-30T12:00:00Z',
        utc('2026-10-31T11:00', '2026-11-01T12:00', '2026-11-02T12:00', '2026-11-03T12:00'),
      ],
      // Adelaide: ACDT +10:30 until 5 Apr 2026 03:00, ACST +09:30 until 4 Oct 2026 02:00 (07:00 is the UTC day before).
      [
        'Australia/Adelaide',
        '2026-04-02T12:00:00Z',
        utc('2026-04-02T20:30', '2026-04-03T20:30', '2026-04-04T21:30', '2026-04-05T21:30'),
      ],
      [
        'Australia/Adelaide',
        '2026-10-01T12:00:00Z',
        utc('2026-10-01T21:30', '2026-10-02T21:30', '2026-10-03T20:30', '2026-10-04T20:30'),
      ],
      // St. John's: NST -03:30 until 8 Mar 2026, NDT -02:30 until 1 Nov 2026.
      [
        'America/St_Johns',
        '2026-03-06T12:00:00Z',
        utc('2026-03-07T10:30', '2026-03-08T09:30', '2026-03-09T09:30', '2026-03-10T09:30'),
      ],
      [
        'America/St_Johns',
        '2026-10-30T12:00:00Z',
        utc('2026-10-31T09:30', '2026-11-01T10:30', '2026-11-02T10:30', '2026-11-03T10:30'),
      ],
    ])('0 0 7 * * ? stays at 07:00 local in %s after %s', async (timeZone, from, expected) => {
      await expect(preview({ cron: '0 0 7 * * ?', timeZone, from, count: 4 })).resolves.toEqual(expected);
    });

    it('does not fire 02:30 on the Berlin spring-forward day, which has no 02:30 (as Quartz 2.3)', async () => {
      // 02:30 does not exist on 29 Mar 2026; 03:00 CEST = 01:00 UTC. (Quartz 2.3 does not fire that day at all.)
      await expect(
        preview({ cron: '0 30 2 * * ?', timeZone: 'Europe/Berlin', from: '2026-03-27T12:00:00Z', count: 3 }),
      ).resolves.toEqual(utc('2026-03-28T01:30', '2026-03-30T00:30', '2026-03-31T00:30'));
    });

    it('fires 02:30 on the Berlin fall-back day once, although the clock shows 02:30 twice', async () => {
      const [onFallBack, ...after] = await preview({
        cron: '0 30 2 * * ?',
        timeZone: 'Europe/Berlin',
        from: '2026-10-24T12:00:00Z',
        count: 3,
      });
      // 02:30 CEST = 00:30 UTC and 02:30 CET = 01:30 UTC: one of them, never both.
      expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(onFallBack);
      expect(after).toEqual(utc('2026-10-26T01:30', '2026-10-27T01:30'));
    });
  });

  describe('from and count', () => {
    it('does not return a fire time equal to from', async () => {
      await expect(preview({ cron: '0 0 12 * * ?', from: '2026-01-01T12:00:00.000Z', count: 2 })).resolves.toEqual(
        at('12:00', '2026-01-02', '2026-01-03'),
      );
      await expect(preview({ cron: '0 0 12 * * ?', from: '2026-01-01T13:00:00+01:00', count: 1 })).resolves.toEqual(
        at('12:00', '2026-01-02'),
      );
      await expect(preview({ cron: '0 0 12 * * ?', from: '2026-01-01T11:59:59.999Z', count: 1 })).resolves.toEqual(
        at('12:00', '2026-01-01'),
      );
    });

    it('returns 5 fire times when count is not given', async () => {
      await expect(preview({ cron: '0 0 12 * * ?', from: NEW_YEAR_2026 })).resolves.toEqual(
        at('12:00', '2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05'),
      );
    });

    it('returns up to 100 fire times', async () => {
      const next = await preview({ cron: '*/20 * * * * *', from: NEW_YEAR_2026, count: 100 });
      expect(next).toHaveLength(100);
      expect(next[0]).toBe('2026-01-01T00:00:20.000Z');
      expect(next[99]).toBe('2026-01-01T00:33:20.000Z'); // 100 × 20 s = 2000 s after from
      expect(new Set(next).size).toBe(100);
    });

    it('bounds the work of an expression that never fires, and says how far it looked', async () => {
      // No February has a day 29 days before its last. This took 0.5 s of CPU a request, searching to the year 3000.
      const { body } = await request(server.url)
        .get('/api/schedules/preview')
        .query({ cron: '0 0 0 L-29 2 ?', from: NEW_YEAR_2026, count: 100 })
        .expect(200);
      expect(body).toEqual({
        cron: '0 0 0 L-29 2 ?',
        timeZone: 'UTC',
        next: [],
        searchedUntil: '2225-03-01T23:59:59.999Z',
      });
    });

    it('returns fewer fire times than asked when the search stops first, every one before searchedUntil', async () => {
      // L-28 in February is the 1st of a leap February.
      const { body } = await request(server.url)
        .get('/api/schedules/preview')
        .query({ cron: '0 0 12 L-28 2 ?', from: NEW_YEAR_2026, count: 100 })
        .expect(200);
      const leapFebruaries = Array.from({ length: 400 }, (_, index) => 2026 + index)
        .filter((year) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))
        .map((year) => `${year}-02-01T12:00:00.000Z`);
      expect(body.next.length).toBeLessThan(100);
      expect(body.next).toEqual(leapFebruaries.filter((instant) => instant < body.searchedUntil));
    });

    it('starts from the current time when from is not given', async () => {
      const before = Date.now();
      const next = await preview({ cron: '0 0 12 * * ?', count: 1 });
      const first = new Date(next[0]).getTime();
      expect(first).toBeGreaterThan(before);
      expect(first - before).toBeLessThanOrEqual(24 * 3600 * 1000);
      expect(next[0]).toMatch(/T12:00:00\.000Z$/);
    });
  });

  describe('400 naming the problem', () => {
    it.each<[string, string[]]>([
      ['0 0 12 ? * 8', ['day-of-week', '"8"']],
      ['0 0 12 ? * 0', ['day-of-week', '"0"']],
      ['0 0 12 ? * 6#6', ['day-of-week', '"6#6"']],
      ['0 0 12 ? * 6#0', ['day-of-week', '"6#0"']],
      ['0 0 12 L-31 * ?', ['day-of-month', '"L-31"']],
      ['0 0 12 15W,20 * ?', ['day-of-month', '"15W,20"']],
      ['0 0 12 ? * 15W', ['day-of-week', '"15W"']],
      ['0 0 12 15 * MON ?', ['year', '"?"']],
      ['0 0 12 ? * ?', ['"?"', 'day-of-month', 'day-of-week']],
      ['? 0 12 * * ?', ['second', '"?"']],
      ['0 0 L * * ?', ['hour', '"L"']],
      ['61 0 12 * * ?', ['second', '"61"']],
      ['0 0 12 ? * MON-', ['day-of-week', '"MON-"']],
      ['0 0 12 * * ? 1969', ['year', '"1969"']],
      ['0 0 12 * * ? 2030-2027', ['year', '"2030-2027"', 'write 2027-2030']],
      ['0 12 ? * MON', ['6 or 7 fields', 'found 5']],
      ['0 0 12 * * ? 2027 1', ['6 or 7 fields', 'found 8']],
      ['0 0 12 * * * 2027 1', ['8 fields']],
      ['every day at noon', ['4 fields']],
      ['hello world foo bar baz', ['"hello world foo bar baz"']],
    ])('cron=%s', async (cron, fragments) => {
      const message = await problem({ cron });
      expect(message).toContain('cron');
      for (const fragment of fragments) expect(message).toContain(fragment);
    });

    it('a missing cron', async () => {
      const message = await problem({ from: NEW_YEAR_2026 });
      expect(message).toContain('cron');
      expect(message).toContain('string');
    });

    it.each<[Record<string, string>, string]>([
      [{ timeZone: 'Mars/Olympus' }, 'timeZone must be an IANA time zone'],
      [{ from: 'yesterday' }, 'from must be an ISO-8601 instant'],
      [{ count: '0' }, 'count must not be less than 1'],
      [{ count: '101' }, 'count must not be greater than 100'],
      [{ count: 'abc' }, 'count must be an integer number'],
    ])('%j', async (query, expected) => {
      await expect(problem({ cron: '0 0 12 * * ?', ...query })).resolves.toContain(expected);
    });
  });
});
