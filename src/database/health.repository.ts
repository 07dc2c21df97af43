import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE } from './database.js';
import type { Database } from './schema.js';

@Injectable()
export class HealthRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** Resolves once the database answers a trivial query; rejects with its error otherwise. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }
}
