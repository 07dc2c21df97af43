import { CronTime } from 'cron';
import { assertValidCron, CronExpressionError, toCronLibExpression } from './cron-expression.js';
import { DEFAULT_CLEANUP_CRON, DEFAULT_DAILY_REPORT_CRON } from './job.js';

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('toCronLibExpression', () => {
  describe('Quartz expressions', () => {
    it('turns the "?" of the daily default into "*"', () => {
      expect(toCronLibExpression('0 0 7 * * ?')).toBe('0 0 7 * * *');
    });

    it('turns a "?" day-of-month into "*" and keeps a weekday name', () => {
      expect(toCronLibExpression('0 0 0 ? * MON')).toBe('0 0 0 * * MON');
      expect(toCronLibExpression('0 30 6 ? * mon-fri')).toBe('0 30 6 * * mon-fri');
    });

    it('keeps month names', () => {
      expect(toCronLibExpression('0 0 0 1 JAN,JUL ?')).toBe('0 0 0 1 JAN,JUL *');
    });

    it('shifts single weekday numbers: 1 = Sunday becomes 0, 7 = Saturday becomes 6', () => {
      expect(toCronLibExpression('0 0 0 ? * 1')).toBe('0 0 0 * * 0');
      expect(toCronLibExpression('0 0 0 ? * 7')).toBe('0 0 0 * * 6');
      expect(toCronLibExpression('0 0 0 ? * 4')).toBe('0 0 0 * * 3');
    });

    it('shifts both ends of a weekday range', () => {
      expect(toCronLibExpression('0 0 9 ? * 2-6')).toBe('0 0 9 * * 1-5');
    });

    it('shifts every weekday of a list', () => {
      expect(toCronLibExpression('0 0 9 ? * 1,4,7')).toBe('0 0 9 * * 0,3,6');
    });

    it('shifts the start of a weekday step but not the step', () => {
      expect(toCronLibExpression('0 0 9 ? * 1/2')).toBe('0 0 9 * * 0/2');
      expect(toCronLibExpression('0 0 9 ? * 2-6/2')).toBe('0 0 9 * * 1-5/2');
      expect(toCronLibExpression('0 0 9 ? * */3')).toBe('0 0 9 * * */3');
    });

    it('shifts weekdays only in the day-of-week field', () => {
      expect(toCronLibExpression('7 6 5 4 3 ?')).toBe('7 6 5 4 3 *');
      expect(toCronLibExpression('1 2 3 ? 4 5')).toBe('1 2 3 * 4 4');
    });

    it('drops a "*" year field', () => {
      expect(toCronLibExpression('0 0 7 * * ? *')).toBe('0 0 7 * * *');
      expect(toCronLibExpression('0 15 10 ? * 6 *')).toBe('0 15 10 * * 5');
    });

    it('ignores surrounding and repeated whitespace', () => {
      expect(toCronLibExpression('  0  0   7 * *\t? ')).toBe('0 0 7 * * *');
    });
  });

  describe('other expressions', () => {
    it('passes 5-field expressions unchanged', () => {
      expect(toCronLibExpression('*/5 * * * *')).toBe('*/5 * * * *');
      expect(toCronLibExpression('0 7 * * 1-5')).toBe('0 7 * * 1-5');
    });

    it('passes 6-field expressions without "?" unchanged, weekday numbers included', () => {
      expect(toCronLibExpression('0 0 7 * * 1')).toBe('0 0 7 * * 1');
      expect(toCronLibExpression('30 */10 8-18 * * 0,6')).toBe('30 */10 8-18 * * 0,6');
    });
  });

  describe('errors', () => {
    it.each([
      ['0 0 0 ? * 0', '0'],
      ['0 0 0 ? * 8', '8'],
      ['0 0 0 ? * 0-5', '0'],
      ['0 0 0 ? * 2,8', '8'],
    ])('rejects the Quartz weekday in %s, naming the field and the value %s', (expression, value) => {
      const error = errorOf(() => toCronLibExpression(expression));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain('day-of-week');
      expect(error.message).toContain(`value ${value}`);
    });

    it.each([
      ['? 0 7 * * ?', 'second'],
      ['0 ? 7 * * ?', 'minute'],
      ['0 0 ? * * ?', 'hour'],
      ['0 0 7 * ? ?', 'month'],
    ])('rejects "?" outside the day fields in %s, naming the %s field', (expression, field) => {
      const error = errorOf(() => toCronLibExpression(expression));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain(`not in the ${field} field`);
    });

    it.each([
      ['0 0 0 L * ?', 'day-of-month', 'L'],
      ['0 0 0 15W * ?', 'day-of-month', '15W'],
      ['0 0 0 LW * ?', 'day-of-month', 'LW'],
      ['0 0 0 ? * 6L', 'day-of-week', '6L'],
      ['0 0 0 ? * 6#3', 'day-of-week', '6#3'],
      ['0 0 0 ? * FRI#2', 'day-of-week', 'FRI#2'],
    ])('rejects the L/W/# token in %s, naming the %s field and "%s"', (expression, field, token) => {
      const error = errorOf(() => toCronLibExpression(expression));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain(`${field} field "${token}"`);
      expect(error.message).toMatch(/L, W or #/);
    });

    it('does not mistake the letters of day and month names for L or W tokens', () => {
      expect(toCronLibExpression('0 0 0 ? JUL WED')).toBe('0 0 0 * JUL WED');
    });

    it('rejects a year other than "*", naming the year field and its value', () => {
      const error = errorOf(() => toCronLibExpression('0 0 7 * * ? 2030'));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain('year field "2030"');
    });

    it.each([
      ['0 7 * * ?', 5],
      ['0 0 7 * * ? * *', 8],
      ['?', 1],
    ])('rejects the Quartz expression "%s" with %d fields, naming the count', (expression, count) => {
      const error = errorOf(() => toCronLibExpression(expression));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain('6 or 7 fields');
      expect(error.message).toContain(`found ${count}`);
      expect(error.message).toContain(expression);
    });
  });
});

describe('assertValidCron', () => {
  it('accepts the default schedules', () => {
    expect(() => assertValidCron(DEFAULT_DAILY_REPORT_CRON)).not.toThrow();
    expect(() => assertValidCron(DEFAULT_CLEANUP_CRON)).not.toThrow();
    expect(() => assertValidCron(DEFAULT_DAILY_REPORT_CRON, 'Europe/Berlin')).not.toThrow();
  });

  it('accepts 5-field expressions', () => {
    expect(() => assertValidCron('*/5 * * * *')).not.toThrow();
  });

  it.each(['61 * * * * ?', 'garbage', '0 0 25 * * ?', '0 0 0 32 * ?', '* * * * * * * * *'])(
    'rejects %s with a CronExpressionError naming the expression',
    (expression) => {
      const error = errorOf(() => assertValidCron(expression));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toContain(expression);
    },
  );

  it('passes on the translation errors', () => {
    const error = errorOf(() => assertValidCron('0 0 0 ? * 8'));
    expect(error).toBeInstanceOf(CronExpressionError);
    expect(error.message).toContain('day-of-week');
  });
});

describe('the translated default schedule in the cron library', () => {
  const berlin = 'Europe/Berlin';

  it('fires next at 07:00:00 Berlin time', () => {
    const next = new CronTime(toCronLibExpression(DEFAULT_DAILY_REPORT_CRON), berlin).sendAt().setZone(berlin);
    expect({ hour: next.hour, minute: next.minute, second: next.second }).toEqual({ hour: 7, minute: 0, second: 0 });
  });

  it('fires at 07:00 Berlin in winter (06:00 UTC) and in summer (05:00 UTC)', () => {
    const cronTime = new CronTime(toCronLibExpression('0 0 7 * * ?'), berlin);

    const winter = cronTime.getNextDateFrom(new Date('2025-01-15T12:00:00.000Z'), berlin);
    expect(winter.toJSDate().toISOString()).toBe('2025-01-16T06:00:00.000Z');
    expect(winter.setZone(berlin).hour).toBe(7);

    // The night of the spring DST change.
    const summer = cronTime.getNextDateFrom(new Date('2025-03-29T12:00:00.000Z'), berlin);
    expect(summer.toJSDate().toISOString()).toBe('2025-03-30T05:00:00.000Z');
    expect(summer.setZone(berlin).hour).toBe(7);
  });

  it('fires a translated Quartz Monday-to-Friday schedule on Monday to Friday', () => {
    const cronTime = new CronTime(toCronLibExpression('0 0 7 ? * 2-6'), 'UTC');
    // 2025-01-17 is a Friday: the next fire after Friday 12:00 is Monday 2025-01-20.
    const next = cronTime.getNextDateFrom(new Date('2025-01-17T12:00:00.000Z'), 'UTC');
    expect(next.toJSDate().toISOString()).toBe('2025-01-20T07:00:00.000Z');
  });

  it('fires a translated Quartz Sunday (1) schedule on Sunday', () => {
    const cronTime = new CronTime(toCronLibExpression('0 0 7 ? * 1'), 'UTC');
    // 2025-01-15 is a Wednesday; the next Sunday is 2025-01-19.
    const next = cronTime.getNextDateFrom(new Date('2025-01-15T12:00:00.000Z'), 'UTC');
    expect(next.toJSDate().toISOString()).toBe('2025-01-19T07:00:00.000Z');
  });
});
