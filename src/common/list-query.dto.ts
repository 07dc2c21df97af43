import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsIsoInstant, parseIsoInstant } from './is-iso-instant.validator.js';
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
  @IsIsoInstant()
  before?: string;

  /** `before` in the stored form (UTC, milliseconds), so that text comparison is time comparison. */
  toPage(): Page {
    return { limit: this.limit, before: parseIsoInstant(this.before)?.toISOString() };
  }
}
