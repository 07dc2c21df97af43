import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsTimeZone, Max, Min } from 'class-validator';
import { IsIsoInstant } from '../common/is-iso-instant.validator.js';
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
  @IsIsoInstant()
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
  /** Present when the search stopped before finding `count` fire times: `next` holds every one up to this instant. */
  searchedUntil?: string;
}
