import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { parseIsoInstant } from '../common/is-iso-instant.validator.js';
import { Env } from '../config/env.js';
import { CronSchedule } from './cron-schedule.js';
import type { SchedulePreview, SchedulePreviewQueryDto } from './schedule-preview.dto.js';

/**
 * How many of croner's proposals one preview may weigh. One costs up to about 0.1 ms (a jump of a
 * year, two time-zone readings), so a preview stays within about 20 ms however rarely the expression
 * fires, where `0 0 0 L-29 2 ?` (never) took 0.5 s; 100 fire times of a monthly `L-nW` take 200.
 */
export const PREVIEW_SEARCH_STEPS = 200;

@Injectable()
export class SchedulesService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly env: Env,
  ) {}

  /** When an expression would fire: the same evaluator that drives the jobs, with a bound on the work. */
  preview(query: SchedulePreviewQueryDto): SchedulePreview {
    const timeZone = query.timeZone ?? this.env.JOBS_TIME_ZONE;
    const schedule = CronSchedule.parse(query.cron, timeZone);
    const from = parseIsoInstant(query.from) ?? this.clock.now();
    const { runs, searchedUntil } = schedule.searchNextRuns(query.count, from, PREVIEW_SEARCH_STEPS);
    return {
      cron: query.cron,
      timeZone,
      next: runs.map((instant) => instant.toISOString()),
      ...(searchedUntil && { searchedUntil: searchedUntil.toISOString() }),
    };
  }
}
