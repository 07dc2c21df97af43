import { validateSync } from 'class-validator';
import { IsIsoInstant, isoInstantProblem, parseIsoInstant } from './is-iso-instant.validator.js';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-01-31T07:00:00.000Z', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31T09:00:00+02:00', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31T01:30:00-05:30', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31T07:00:00-00:00', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31T07:00Z', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31T07:00:00.5Z', '2026-01-31T07:00:00.500Z'],
    ['2026-01-31T07:00:00.123456789Z', '2026-01-31T07:00:00.123Z'],
    ['2026-01-01T00:30:00+14:00', '2025-12-31T10:30:00.000Z'],
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads %s as %s', (text, instant) => {
    expect(parseIsoInstant(text)?.toISOString()).toBe(instant);
    expect(isoInstantProblem(text)).toBeUndefined();
  });

  it('reads nothing from an absent value', () => {
    expect(parseIsoInstant(undefined)).toBeUndefined();
  });
});

describe('isoInstantProblem', () => {
  it.each([
    // ISO-8601 forms that Date cannot read (they answered 500 before), and forms that name no one instant.
    '2026-W01-1',
    '20260101T000000Z',
    '2026-01-01T00Z',
    '2026-100',
    '2026-01-01T00:00:00,5Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00:00+0200',
    '2026-01-01t00:00:00z',
    ' 2026-01-01T00:00:00Z',
    '+002026-01-01T00:00:00Z',
    '275760-09-13T00:00:00Z',
    'yesterday',
    '',
  ])('refuses the form of %j', (text) => {
    expect(isoInstantProblem(text)).toBe('write YYYY-MM-DDTHH:mm[:ss[.fraction]] followed by Z or ±HH:mm');
    expect(parseIsoInstant(text)).toBeUndefined();
  });

  it.each([
    ['2026-13-01T00:00:00Z', 'month 13 does not exist'],
    ['2026-00-10T00:00:00Z', 'month 00 does not exist'],
    ['2026-02-30T00:00:00Z', '2026-02 has no day 30'],
    ['2026-02-29T00:00:00Z', '2026-02 has no day 29'],
    ['2100-02-29T00:00:00Z', '2100-02 has no day 29'],
    ['2026-04-31T00:00:00Z', '2026-04 has no day 31'],
    ['2026-01-00T00:00:00Z', '2026-01 has no day 00'],
    ['2026-01-01T24:00:00Z', 'hour 24 is out of range 00–23'],
    ['2026-01-01T00:60:00Z', 'minute 60 is out of range 00–59'],
    ['2026-01-01T00:00:60Z', 'second 60 is out of range 00–59'],
    ['2026-01-01T00:00:00+24:00', 'offset hour 24 is out of range 00–23'],
    ['2026-01-01T00:00:00+02:60', 'offset minute 60 is out of range 00–59'],
  ])('refuses %s, which is no real instant: %s', (text, problem) => {
    expect(isoInstantProblem(text)).toBe(problem);
    expect(parseIsoInstant(text)).toBeUndefined();
  });

  it.each([
    '1969-12-31T23:59:59.999Z',
    '1970-01-01T00:30:00+01:00',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59-00:01',
  ])('refuses %s, outside 1970 to 9999 UTC', (text) => {
    expect(isoInstantProblem(text)).toBe('it must lie between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z');
  });

  it.each([[['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']], [20260101], [null]])('refuses %j', (value) => {
    expect(isoInstantProblem(value)).toBe('it must be given once, as a string');
  });

  it('reads every date and time it accepts exactly as written: none rolls over into the next day or month', () => {
    const pad = (value: number, width = 2) => String(value).padStart(width, '0');
    const accepted: string[] = [];
    for (const year of [1970, 2000, 2026, 2028, 2100, 9999]) {
      for (let month = 0; month <= 13; month += 1) {
        for (let day = 0; day <= 32; day += 1) {
          for (const hour of [0, 23, 24]) {
            const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:59:59.999Z`;
            const instant = parseIsoInstant(text);
            if (instant) accepted.push(text);
            if (instant && instant.toISOString() !== text)
              throw new Error(`${text} was read as ${instant.toISOString()}`);
          }
        }
      }
    }
    // 365 + 366 + 365 + 366 + 365 + 365 days, each at two valid hours.
    expect(accepted).toHaveLength(2192 * 2);
  });
});

describe('@IsIsoInstant', () => {
  class Query {
    @IsIsoInstant()
    before?: unknown;
  }

  function messagesFor(before: unknown): string[] {
    const query = Object.assign(new Query(), { before });
    return validateSync(query).flatMap((error) => Object.values(error.constraints ?? {}));
  }

  it('names the parameter, the form it takes and what is wrong', () => {
    expect(messagesFor('2026-02-30T00:00:00Z')).toEqual([
      'before must be an ISO-8601 instant such as 2026-01-31T07:00:00.000Z or 2026-01-31T09:00:00+02:00: 2026-02 has no day 30',
    ]);
  });

  it('passes an instant', () => {
    expect(messagesFor('2026-01-31T09:00:00+02:00')).toEqual([]);
  });
});
