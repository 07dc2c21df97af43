import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsTimeZone, Max, Min } from 'class-validator';
import { IsCronExpression } from './is-cron-expression.validator.js';

export const MAX_PREVIEW_COUNT = 100;

/** `GET /api/schedules/preview?cron=&timeZone=&from=&count=` */
export class SchedulePreviewQueryDto {
  @IsCronExpression()
  cron: string;

  /** Defaults to JOBS_TIME_ZONE, the zone the jobs' schedules are read in. */
  @IsOptional()
  @IsTimeZone({ message: 'timeZone must be an IANA time zone such as UTC or Europe/Berlin' })
  timeZone?: string;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 instant such as 2026-01-31T07:00:00.000Z' })
  from?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PREVIEW_COUNT)
  count = 5;
}

export interface SchedulePreview {
  cron: string;
  timeZone: string;
  /** Fire times strictly after `from`, as ISO-8601 UTC instants. */
  next: string[];
}
