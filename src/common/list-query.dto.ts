import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import type { Page } from './page.js';

export const MAX_PAGE_SIZE = 500;

/** `?limit=&before=` of every list route: newest first, `before` an ISO-8601 instant to page back. */
export class ListQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit = 50;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'before must be an ISO-8601 instant such as 2026-01-31T07:00:00.000Z' })
  before?: string;

  /** `before` in the stored form (UTC, milliseconds), so that text comparison is time comparison. */
  toPage(): Page {
    return { limit: this.limit, before: this.before && new Date(this.before).toISOString() };
  }
}
