import { registerDecorator, type ValidationArguments } from 'class-validator';

/**
 * An instant as the REST API takes it (`before`, `from`): RFC 3339's profile of ISO-8601,
 * `YYYY-MM-DDTHH:mm[:ss[.fraction]]` then `Z` or `±HH:mm`. A date alone or a time without an offset
 * does not say which instant it means, and week dates, ordinal dates and the basic format are
 * ISO-8601 that `Date` cannot read: all of them are refused rather than guessed at.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Stored instants are compared as text, which orders them only while the year has four digits; and
 * `Date.UTC` and `Intl`, which the cron evaluator uses, read years below 100 as 19xx or BC. Nothing
 * jobpulse records is older than 1970.
 */
const EARLIEST = '1970-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

const EXAMPLE = 'such as 2026-01-31T07:00:00.000Z or 2026-01-31T09:00:00+02:00';

type Reading = { instant: Date; problem?: undefined } | { instant?: undefined; problem: string };

function read(value: unknown): Reading {
  if (typeof value !== 'string') return { problem: 'it must be given once, as a string' };
  const match = INSTANT.exec(value);
  if (!match) return { problem: 'write YYYY-MM-DDTHH:mm[:ss[.fraction]] followed by Z or ±HH:mm' };
  const [, year, month, day, hour, minute, second = '00', fraction = '', zone, offsetHours, offsetMinutes] = match;
  const problem =
    calendarProblem(year, month, day) ??
    outOfRange('hour', hour, 23) ??
    outOfRange('minute', minute, 59) ??
    outOfRange('second', second, 59) ??
    (zone === 'Z'
      ? undefined
      : (outOfRange('offset hour', offsetHours, 23) ?? outOfRange('offset minute', offsetMinutes, 59)));
  if (problem) return { problem };
  // Every part is in range, so this is the form Date.parse reads exactly; the fraction is read to the millisecond.
  const milliseconds = fraction.padEnd(3, '0').slice(0, 3);
  const time = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}.${milliseconds}${zone}`);
  if (time < Date.parse(EARLIEST) || time > Date.parse(LATEST)) {
    return { problem: `it must lie between ${EARLIEST} and ${LATEST}` };
  }
  return { instant: new Date(time) };
}

function calendarProblem(year: string, month: string, day: string): string | undefined {
  if (Number(month) < 1 || Number(month) > 12) return `month ${month} does not exist`;
  const leap = Number(year) % 4 === 0 && (Number(year) % 100 !== 0 || Number(year) % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(month) - 1];
  if (Number(day) < 1 || Number(day) > days) return `${year}-${month} has no day ${day}`;
  return undefined;
}

function outOfRange(part: string, digits: string, max: number): string | undefined {
  return Number(digits) > max ? `${part} ${digits} is out of range 00–${max}` : undefined;
}

/** The instant `value` names, or undefined when it names none (absent, or refused by `IsIsoInstant`). */
export function parseIsoInstant(value: unknown): Date | undefined {
  return read(value).instant;
}

/** Why `value` is not an instant the API takes; undefined when it is one. */
export function isoInstantProblem(value: unknown): string | undefined {
  return read(value).problem;
}

/** An instant with a time and an offset, between 1970 and 9999; the message names the parameter and what is wrong. */
export function IsIsoInstant(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIsoInstant',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => isoInstantProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be an ISO-8601 instant ${EXAMPLE}: ${isoInstantProblem(args?.value)}`,
      },
    });
}
