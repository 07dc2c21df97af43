import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';
import { PageSize } from '../common/list-query.dto.js';

/** `GET /api/events?after=&limit=`: stored events after an id, oldest first. */
export class EventsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, description: 'Lists events with a greater id.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after = 0;

  @PageSize()
  limit = 50;
}
