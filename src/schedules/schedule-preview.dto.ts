import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsTimeZone, Max, Min } from 'class-validator';
import { IsIsoInstant } from '../common/is-iso-instant.validator.js';
import { IsCronExpression } from './is-cron-expression.validator.js';

export const MAX_PREVIEW_COUNT = 100;

/** `GET /api/schedules/preview?cron=&timeZone=&from=&count=` */
export class SchedulePreviewQueryDto {
  @ApiProperty({
    description:
      'A cron expression: Quartz (6 or 7 fields, with L, W, # and years) or @nestjs/schedule syntax, e.g. 0 0 7 ? * MON-FRI.',
  })
  @IsCronExpression()
  cron: string;

  /** Defaults to JOBS_TIME_ZONE, the zone the jobs' schedules are read in. */
  @ApiPropertyOptional({ description: 'An IANA time zone such as Europe/Berlin; JOBS_TIME_ZONE by default.' })
  @IsOptional()
  @IsTimeZone({ message: 'timeZone must be an IANA time zone such as UTC or Europe/Berlin' })
  timeZone?: string;

  @ApiPropertyOptional({
    type: 'string',
    format: 'date-time',
    description: 'Lists fire times strictly after this ISO-8601 instant; now by default.',
  })
  @IsOptional()
  @IsIsoInstant()
  from?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PREVIEW_COUNT,
    default: 5,
    description: 'How many fire times to list.',
  })
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
