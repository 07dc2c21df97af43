import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsIsoInstant, parseIsoInstant } from './is-iso-instant.validator.js';
import type { Page } from './page.js';

export const MAX_PAGE_SIZE = 500;

/** `?limit=` of every list route: how many to list, 1 to MAX_PAGE_SIZE (default 50). */
export const PageSize = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: 50,
      description: 'How many to list.',
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_SIZE),
  );

/** `?limit=&before=` of every list route: newest first, `before` an ISO-8601 instant to page back. */
export class ListQueryDto {
  @PageSize()
  limit = 50;

  @ApiPropertyOptional({
    type: 'string',
    format: 'date-time',
    description:
      'Lists only items strictly older (runs by startedAt, reports by createdAt): an ISO-8601 instant with an offset, such as 2026-01-31T07:00:00.000Z.',
  })
  @IsOptional()
  @IsIsoInstant()
  before?: string;

  /** `before` in the stored form (UTC, milliseconds), so that text comparison is time comparison. */
  toPage(): Page {
    return { limit: this.limit, before: parseIsoInstant(this.before)?.toISOString() };
  }
}
