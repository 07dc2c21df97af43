import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { parseIsoInstant } from '../common/is-iso-instant.validator.js';
import { Env } from '../config/env.js';
import { CronSchedule } from './cron-schedule.js';
import type { SchedulePreview, SchedulePreviewQueryDto } from './schedule-preview.dto.js';

@Injectable()
export class SchedulesService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly env: Env,
  ) {}

  /** When an expression would fire: the same evaluator that drives the jobs. */
  preview(query: SchedulePreviewQueryDto): SchedulePreview {
    const timeZone = query.timeZone ?? this.env.JOBS_TIME_ZONE;
    const schedule = CronSchedule.parse(query.cron, timeZone);
    const from = parseIsoInstant(query.from) ?? this.clock.now();
    return {
      cron: query.cron,
      timeZone,
      next: schedule.nextRuns(query.count, from).map((instant) => instant.toISOString()),
    };
  }
}
