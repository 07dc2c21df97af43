import { CronTime } from 'cron';

const QUARTZ_DAY_OF_MONTH_FIELD = 3;
const QUARTZ_WEEKDAY_FIELD = 5;
const QUARTZ_YEAR_FIELD = 6;
const FIELD_NAMES = ['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week', 'year'];

export class CronExpressionError extends Error {}

/**
 * Translates an expression into the syntax of the `cron` library that runs
 * `@nestjs/schedule`, keeping Quartz.NET's meaning for Quartz expressions.
 *
 * Quartz syntax is recognised by its `?` (Quartz requires one day field to be
 * `?`): there, `?` means "no constraint" and weekdays count 1 = Sunday … 7 =
 * Saturday, while `cron` counts 0 = Sunday … 6 = Saturday. Anything else is
 * passed through unchanged, so `@nestjs/schedule` expressions keep their meaning.
 */
export function toCronLibExpression(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (!fields.some((field) => field === '?')) return fields.join(' ');
  if (fields.length < 6 || fields.length > 7) {
    throw new CronExpressionError(
      `Quartz expression "${expression}" must have 6 or 7 fields (second minute hour day-of-month month day-of-week [year]), found ${fields.length}`,
    );
  }
  fields.forEach((field, index) => {
    if (field === '?' && index !== QUARTZ_DAY_OF_MONTH_FIELD && index !== QUARTZ_WEEKDAY_FIELD) {
      throw new CronExpressionError(
        `Quartz allows "?" only in day-of-month or day-of-week, not in the ${FIELD_NAMES[index]} field`,
      );
    }
    if (/[LW#]/i.test(field.replace(/[A-Z]{3}/gi, (name) => (isName(name) ? '' : name)))) {
      throw new CronExpressionError(
        `Quartz ${FIELD_NAMES[index]} field "${field}" uses L, W or #, which this version does not support yet`,
      );
    }
  });
  if (fields.length === 7) {
    if (fields[QUARTZ_YEAR_FIELD] !== '*') {
      throw new CronExpressionError(
        `Quartz year field "${fields[QUARTZ_YEAR_FIELD]}" is not supported yet; use "*" or leave it out`,
      );
    }
    fields.pop();
  }
  const translated = fields.map((field, index) => {
    if (field === '?') return '*';
    return index === QUARTZ_WEEKDAY_FIELD ? shiftQuartzWeekdays(field) : field;
  });
  return translated.join(' ');
}

/** Throws a CronExpressionError naming the problem if `expression` cannot be scheduled in `timeZone`. */
export function assertValidCron(expression: string, timeZone = 'UTC'): void {
  const translated = toCronLibExpression(expression);
  try {
    new CronTime(translated, timeZone);
  } catch (error) {
    throw new CronExpressionError(`"${expression}" is not a valid cron expression: ${(error as Error).message}`);
  }
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function isName(token: string): boolean {
  const upper = token.toUpperCase();
  return DAY_NAMES.includes(upper) || MONTH_NAMES.includes(upper);
}

/** Quartz weekday numbers 1–7 become 0–6; names and steps are left as they are. */
function shiftQuartzWeekdays(field: string): string {
  return field
    .split(',')
    .map((part) => {
      const [range, step] = part.split('/');
      const shifted = range.replace(/\d+/g, (digits) => {
        const weekday = Number(digits);
        if (weekday < 1 || weekday > 7) {
          throw new CronExpressionError(
            `Quartz day-of-week value ${weekday} in "${field}" must be 1 (Sunday) to 7 (Saturday)`,
          );
        }
        return String(weekday - 1);
      });
      return step === undefined ? shifted : `${shifted}/${step}`;
    })
    .join(',');
}
