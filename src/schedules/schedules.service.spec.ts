import { loadEnv } from '../config/env.js';
import { CronSchedule } from './cron-schedule.js';
import { SchedulePreviewQueryDto } from './schedule-preview.dto.js';
import { PREVIEW_SEARCH_STEPS, SchedulesService } from './schedules.service.js';

const NEW_YEAR_2026 = new Date('2026-01-01T00:00:00Z');

function preview(query: Partial<SchedulePreviewQueryDto>) {
  const service = new SchedulesService({ now: () => NEW_YEAR_2026 }, loadEnv({ JOBS_TIME_ZONE: 'Europe/Berlin' }));
  return service.preview(Object.assign(new SchedulePreviewQueryDto(), query));
}

describe('SchedulesService.preview', () => {
  it('lists the fire times after now in JOBS_TIME_ZONE, and says no more when it found them all', () => {
    expect(preview({ cron: '0 0 12 * * ?', count: 2 })).toEqual({
      cron: '0 0 12 * * ?',
      timeZone: 'Europe/Berlin',
      next: ['2026-01-01T11:00:00.000Z', '2026-01-02T11:00:00.000Z'],
    });
  });

  it('reads from with its offset', () => {
    expect(
      preview({ cron: '0 0 12 * * ?', timeZone: 'UTC', from: '2026-01-01T13:00:00+01:00', count: 1 }).next,
    ).toEqual(['2026-01-02T12:00:00.000Z']);
  });

  it('gives up on an expression that never fires after PREVIEW_SEARCH_STEPS proposals, and says how far it looked', () => {
    // No February has a day 29 days before its last; croner proposes the 1st of each February, one a year.
    const result = preview({ cron: '0 0 0 L-29 2 ?', timeZone: 'UTC', count: 100 });
    expect(result).toEqual({
      cron: '0 0 0 L-29 2 ?',
      timeZone: 'UTC',
      next: [],
      // From the last February it weighed, the search had leapt to where L-29 next falls: 2 March.
      searchedUntil: `${2026 + PREVIEW_SEARCH_STEPS - 1}-03-01T23:59:59.999Z`,
    });
  });

  it('returns fewer fire times than asked for a rare expression, and every one up to searchedUntil', () => {
    // L-28 in February is the 1st of a leap February: 100 of them take 400 years.
    const cron = '0 0 12 L-28 2 ?';
    const { next, searchedUntil } = preview({ cron, timeZone: 'UTC', count: 100 });
    const unbounded = CronSchedule.parse(cron)
      .nextRuns(100, NEW_YEAR_2026)
      .map((instant) => instant.toISOString());
    expect(next.length).toBeGreaterThan(10);
    expect(next.length).toBeLessThan(100);
    expect(next).toEqual(unbounded.filter((instant) => searchedUntil !== undefined && instant <= searchedUntil));
    expect(next[0]).toBe('2028-02-01T12:00:00.000Z');
  });

  it('finds 100 fire times of a monthly L-nW within the bound', () => {
    const { next, searchedUntil } = preview({ cron: '0 0 12 L-3W * ?', timeZone: 'Europe/Berlin', count: 100 });
    expect(next).toHaveLength(100);
    expect(searchedUntil).toBeUndefined();
  });
});
