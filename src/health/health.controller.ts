import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE } from '../database/database.js';
import type { Database } from '../database/schema.js';

@Controller('health')
export class HealthController {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** 200 when the database answers, 503 otherwise. */
  @Get()
  async check(): Promise<{ status: 'ok' }> {
    try {
      await sql`select 1`.execute(this.db);
    } catch (error) {
      throw new ServiceUnavailableException(`database does not answer: ${(error as Error).message}`);
    }
    return { status: 'ok' };
  }
}
