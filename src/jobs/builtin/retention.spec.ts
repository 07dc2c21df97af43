import { retentionCutoffs } from './retention.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

describe('retentionCutoffs', () => {
  const now = new Date('2025-06-15T12:34:56.789Z');

  it('puts the run cutoff 30 days, the report cutoff 90 days and the event cutoff 24 hours before now', () => {
    const cutoffs = retentionCutoffs(now, { runDays: 30, reportDays: 90, eventHours: 24 });

    // 2025-06-15 minus 30 days: 15 days back to May 31, 15 more to May 16.
    expect(cutoffs.runs.toISOString()).toBe('2025-05-16T12:34:56.789Z');
    // minus 90 days: 15 (to May 31) + 31 (to Apr 30) + 30 (to Mar 31) + 14 = Mar 17.
    expect(cutoffs.reports.toISOString()).toBe('2025-03-17T12:34:56.789Z');
    expect(cutoffs.events.toISOString()).toBe('2025-06-14T12:34:56.789Z');
  });

  it('uses each retention independently', () => {
    const cutoffs = retentionCutoffs(now, { runDays: 1, reportDays: 2, eventHours: 3 });

    expect(cutoffs.runs.toISOString()).toBe('2025-06-14T12:34:56.789Z');
    expect(cutoffs.reports.toISOString()).toBe('2025-06-13T12:34:56.789Z');
    expect(cutoffs.events.toISOString()).toBe('2025-06-15T09:34:56.789Z');
  });

  it('does not modify the instant it is given', () => {
    retentionCutoffs(now, { runDays: 30, reportDays: 90, eventHours: 24 });
    expect(now.toISOString()).toBe('2025-06-15T12:34:56.789Z');
  });

  it('counts elapsed 24-hour spans across the spring DST change, not calendar days', () => {
    // Europe/Berlin switched from CET (+01:00) to CEST (+02:00) on 2025-03-30 at 01:00 UTC.
    const afterSpringChange = new Date('2025-03-30T12:00:00.000Z'); // 14:00 in Berlin
    const cutoffs = retentionCutoffs(afterSpringChange, { runDays: 1, reportDays: 30, eventHours: 24 });

    expect(afterSpringChange.getTime() - cutoffs.runs.getTime()).toBe(DAY);
    expect(afterSpringChange.getTime() - cutoffs.reports.getTime()).toBe(30 * DAY);
    expect(afterSpringChange.getTime() - cutoffs.events.getTime()).toBe(24 * HOUR);
    expect(cutoffs.runs.toISOString()).toBe('2025-03-29T12:00:00.000Z');
    expect(cutoffs.reports.toISOString()).toBe('2025-02-28T12:00:00.000Z');
    // One elapsed day before 14:00 CEST is 13:00 CET on the wall clock.
    expect(berlinHour(cutoffs.runs)).toBe(13);
  });

  it('counts elapsed 24-hour spans across the autumn DST change', () => {
    // Europe/Berlin switched back from CEST to CET on 2025-10-26 at 01:00 UTC.
    const afterAutumnChange = new Date('2025-10-27T06:00:00.000Z'); // 07:00 in Berlin
    const cutoffs = retentionCutoffs(afterAutumnChange, { runDays: 2, reportDays: 90, eventHours: 48 });

    expect(afterAutumnChange.getTime() - cutoffs.runs.getTime()).toBe(2 * DAY);
    expect(afterAutumnChange.getTime() - cutoffs.reports.getTime()).toBe(90 * DAY);
    expect(cutoffs.events.getTime()).toBe(cutoffs.runs.getTime());
    expect(cutoffs.runs.toISOString()).toBe('2025-10-25T06:00:00.000Z');
    expect(berlinHour(cutoffs.runs)).toBe(8);
  });
});

function berlinHour(date: Date): number {
  return Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false }).format(date),
  );
}
