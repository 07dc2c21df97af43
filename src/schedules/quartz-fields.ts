import { CronScheduleError } from './cron-schedule-error.js';

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Quartz's fields and value ranges (weekdays 1 = Sunday … 7 = Saturday; years as Quartz accepts them). */
const QUARTZ_FIELDS: FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES },
  { name: 'year', min: 1970, max: 2199 },
];
const [, , , DAY_OF_MONTH, , DAY_OF_WEEK, YEAR] = QUARTZ_FIELDS;

/** Checks every field of a Quartz expression (6 or 7 of them) by Quartz's rules. */
export function checkQuartzFields(fields: string[]): void {
  fields.forEach((field, index) => checkQuartzField(field, QUARTZ_FIELDS[index]));
}

/** One checked Quartz field (0 = second … 6 = year) in croner's syntax, `L-n` day-of-month aside. */
export function toCronerField(field: string, index: number): string {
  if (field === '?') return '*';
  if (QUARTZ_FIELDS[index] === DAY_OF_WEEK) return toCronerWeekdays(field);
  return unwrapRanges(field, QUARTZ_FIELDS[index]);
}

/** Validates one Quartz field by Quartz's rules; the message names the field and the token. */
function checkQuartzField(field: string, spec: FieldSpec): void {
  const fail = (problem: string): never => {
    throw new CronScheduleError(`Quartz ${spec.name} field "${field}": ${problem}`);
  };
  if (field === '?') {
    if (spec !== DAY_OF_MONTH && spec !== DAY_OF_WEEK) fail('"?" is allowed only in day-of-month or day-of-week');
    return;
  }
  const special = /[LW#]/i.test(withoutNames(field, spec));
  if (special) return checkSpecialToken(field, spec, fail);
  for (const item of field.split(',')) checkItem(item, spec, fail);
}

function checkSpecialToken(field: string, spec: FieldSpec, fail: (problem: string) => never): void {
  const upper = field.toUpperCase();
  if (spec === DAY_OF_MONTH) {
    if (upper === 'L' || upper === 'LW') return;
    const offset = /^L-(\d+)W?$/.exec(upper);
    if (offset) {
      if (Number(offset[1]) > 30) fail(`the offset from the last day must be at most 30, not ${offset[1]}`);
      return;
    }
    const nearest = /^(\d+)W$/.exec(upper);
    if (nearest) {
      checkValue(nearest[1], spec, fail);
      return;
    }
    return fail(
      'use L, L-n (n ≤ 30), L-nW, LW or nW (a single day, e.g. 15W); W cannot be combined with a list or range',
    );
  }
  if (spec === DAY_OF_WEEK) {
    if (upper === 'L') return;
    const last = /^([A-Z]{3}|\d+)L$/.exec(upper);
    if (last) {
      checkValue(last[1], spec, fail);
      return;
    }
    const nth = /^([A-Z]{3}|\d+)#(\d+)$/.exec(upper);
    if (nth) {
      checkValue(nth[1], spec, fail);
      const occurrence = Number(nth[2]);
      if (occurrence < 1 || occurrence > 5) fail(`the occurrence after "#" must be 1 to 5, not ${occurrence}`);
      return;
    }
    return fail('use L, nL (last weekday n of the month) or n#k (k-th weekday n, k 1–5), each on its own');
  }
  return fail('L, W and # are allowed only in day-of-month and day-of-week');
}

/** `*`, a value, a range `a-b`, or either stepped with `/n` (Quartz also allows `a/n`, from a, and `/n`, from the start). */
function checkItem(item: string, spec: FieldSpec, fail: (problem: string) => never): void {
  const [range, step, extra] = item.split('/');
  if (extra !== undefined || (range === '' && step === undefined)) fail(`"${item}" is not a value, range or step`);
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) < 1) fail(`the step in "${item}" must be a positive whole number`);
    if (Number(step) > spec.max) fail(`the step ${step} is larger than the largest ${spec.name} value ${spec.max}`);
  }
  if (range === '*' || range === '') return;
  const bounds = range.split('-');
  if (bounds.length > 2) fail(`"${item}" is not a value or a range`);
  const [from, to] = bounds.map((bound) => checkValue(bound, spec, fail));
  // Quartz wraps a backwards range around (see unwrapRanges) in every field but the year, where it refuses one.
  if (spec === YEAR && bounds.length === 2 && from > to) {
    fail(`the range ${from}-${to} ends before it starts, and years do not wrap around: write ${to}-${from}`);
  }
}

function checkValue(token: string, spec: FieldSpec, fail: (problem: string) => never): number {
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(token)) {
    return fail(`"${token}" is not a ${spec.name} value${spec.names ? ` (names: ${spec.names.join(', ')})` : ''}`);
  }
  const value = Number(token);
  if (value < spec.min || value > spec.max) {
    const hint = spec === DAY_OF_WEEK ? ' (1 = Sunday … 7 = Saturday)' : '';
    fail(`${spec.name} value ${value} is out of range ${spec.min}–${spec.max}${hint}`);
  }
  return value;
}

function withoutNames(field: string, spec: FieldSpec): string {
  return spec.names
    ? field.replace(/[A-Z]{3}/gi, (name) => (spec.names!.includes(name.toUpperCase()) ? '' : name))
    : field;
}

/**
 * Quartz reads a range whose start is after its end as wrapping around
 * (`FRI-MON`, `22-2`, and with a step, `22-2/2` = 22, 0, 2); croner does not,
 * so such a range becomes the list of its values.
 */
function unwrapRanges(field: string, spec: FieldSpec): string {
  return field
    .split(',')
    .map((item) => {
      const match = /^([A-Z]{3}|\d+)-([A-Z]{3}|\d+)(?:\/(\d+))?$/i.exec(item);
      if (!match) return item;
      const fail = (problem: string): never => {
        throw new CronScheduleError(`Quartz ${spec.name} field "${field}": ${problem}`);
      };
      const [from, to] = [checkValue(match[1], spec, fail), checkValue(match[2], spec, fail)];
      const step = match[3] === undefined ? undefined : Number(match[3]);
      if (from <= to) return step === undefined ? `${from}-${to}` : `${from}-${to}/${step}`;
      const span = spec.max - spec.min + 1;
      const values: number[] = [];
      for (let value = from; value <= to + span; value += step ?? 1)
        values.push(((value - spec.min) % span) + spec.min);
      return values.join(',');
    })
    .join(',');
}

/** Quartz's weekday forms in croner's Quartz mode: `L` alone is Saturday, `nL` is croner's `n#L`. */
function toCronerWeekdays(field: string): string {
  const upper = field.toUpperCase();
  if (upper === 'L') return '7';
  const last = /^([A-Z]{3}|\d+)L$/.exec(upper);
  if (last) return `${weekdayNumber(last[1])}#L`;
  const nth = /^([A-Z]{3}|\d+)#(\d+)$/.exec(upper);
  if (nth) return `${weekdayNumber(nth[1])}#${nth[2]}`;
  return unwrapRanges(field, DAY_OF_WEEK);
}

function weekdayNumber(token: string): number {
  const named = DAY_NAMES.indexOf(token);
  return named >= 0 ? named + 1 : Number(token);
}
