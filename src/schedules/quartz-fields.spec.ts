import { CronScheduleError } from './cron-schedule-error.js';
import { checkQuartzFields, toCronerField } from './quartz-fields.js';

function fieldError(cron: string): CronScheduleError {
  try {
    checkQuartzFields(cron.split(' '));
  } catch (error) {
    if (error instanceof CronScheduleError) return error;
    throw error;
  }
  throw new Error(`"${cron}" was accepted`);
}

describe('checkQuartzFields names the field and the token', () => {
  it.each<[string, string[]]>([
    ['0 0 12 ? * 8', ['day-of-week', '"8"']],
    ['0 0 12 ? * 0', ['day-of-week', '"0"']],
    ['0 0 12 ? * 0-5', ['day-of-week', '"0-5"']],
    ['0 0 12 ? * 8L', ['day-of-week', '"8L"']],
    ['0 0 12 ? * 6#6', ['day-of-week', '"6#6"', '1 to 5']],
    ['0 0 12 ? * 6#0', ['day-of-week', '"6#0"', '1 to 5']],
    ['0 0 12 ? * 1#2,2#1', ['day-of-week', '"1#2,2#1"']],
    ['0 0 12 ? * 6L,2', ['day-of-week', '"6L,2"']],
    ['0 0 12 ? * 15W', ['day-of-week', '"15W"']],
    ['0 0 12 ? * MON-', ['day-of-week', '"MON-"']],
    ['0 0 12 ? * MON-XYZ', ['day-of-week', '"MON-XYZ"']],
    ['0 0 12 ? * JAN', ['day-of-week', '"JAN"']],
    ['0 0 12 L-31 * ?', ['day-of-month', '"L-31"', '30']],
    ['0 0 12 15W,20 * ?', ['day-of-month', '"15W,20"']],
    ['0 0 12 1-15W * ?', ['day-of-month', '"1-15W"']],
    ['0 0 12 32W * ?', ['day-of-month', '32']],
    ['0 0 12 0W * ?', ['day-of-month', '0']],
    ['0 0 12 L,15 * ?', ['day-of-month', '"L,15"']],
    ['0 0 12 32 * ?', ['day-of-month', '"32"']],
    ['0 0 12 0 * ?', ['day-of-month', '"0"']],
    ['0 0 12 ? 13 *', ['month', '"13"']],
    ['0 0 12 ? FOO *', ['month', '"FOO"']],
    ['0 0 12 1 L ?', ['month', '"L"']],
    ['0 0 L * * ?', ['hour', '"L"']],
    ['0 0 24 * * ?', ['hour', '"24"']],
    ['0 60 12 * * ?', ['minute', '"60"']],
    ['61 0 12 * * ?', ['second', '"61"']],
    ['0/60 0 12 * * ?', ['second', '"0/60"']],
    ['0 0 12 ? * */8', ['day-of-week', '"*/8"']],
    ['0 0 12 * * ? 1969', ['year', '"1969"']],
    // Quartz wraps a backwards range around in every other field, but refuses one of years.
    ['0 0 12 * * ? 2030-2027', ['year', '"2030-2027"', '2027-2030']],
    ['0 0 12 * * ? 2026,2030-2027/2', ['year', '"2026,2030-2027/2"', '2027-2030']],
    ['? 0 12 * * ?', ['second', '"?"']],
    ['0 ? 12 * * ?', ['minute', '"?"']],
    ['0 0 12 15 * MON ?', ['year', '"?"']],
  ])('rejects "%s"', (cron, fragments) => {
    const { message } = fieldError(cron);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it.each([
    ['0 0 12 * * ? 2027-2030'],
    ['0 0 12 * * ? 2027-2027'],
    ['0 0 12 * * ? 2027-2030/2'],
    ['0 0 12 1 NOV-FEB ?'],
  ])('accepts "%s"', (cron) => {
    expect(() => checkQuartzFields(cron.split(' '))).not.toThrow();
  });
});

describe('toCronerField', () => {
  it.each<[string, number, string]>([
    ['?', 3, '*'],
    ['?', 5, '*'],
    ['0/5', 1, '0/5'],
    ['15W', 3, '15W'],
    ['2027-2029', 6, '2027-2029'],
    // Quartz wraps a backwards range around; croner gets the list of its values.
    ['58-1', 0, '58,59,0,1'],
    ['22-2/2', 2, '22,0,2'],
    ['30-2', 3, '30,31,1,2'],
    ['NOV-FEB', 4, '11,12,1,2'],
    ['FRI-MON', 5, '6,7,1,2'],
    ['6-2/2', 5, '6,1'],
    // croner's Quartz weekdays: L alone is Saturday, nL is n#L.
    ['L', 5, '7'],
    ['6L', 5, '6#L'],
    ['FRIL', 5, '6#L'],
    ['MON#1', 5, '2#1'],
    ['MON-FRI', 5, '2-6'],
  ])('reads "%s" (field %i) as "%s"', (field, index, expected) => {
    expect(toCronerField(field, index)).toBe(expected);
  });
});
