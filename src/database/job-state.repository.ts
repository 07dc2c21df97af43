import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { CompiledQueries } from './compiled-queries.js';
import { DATABASE } from './database.js';
import type { Database } from './schema.js';

export interface JobState {
  name: string;
  paused: boolean;
  /** When this database first knew the job, or last paused or resumed it: no fire time before it was missed. */
  since: string;
}

@Injectable()
export class JobStateRepository {
  /** pausedAmong's queries, for the same jobs on every request of the catalogue. */
  private readonly compiled = new CompiledQueries();

  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** The stored state of each job, recording the ones seen for the first time. */
  async ensure(names: string[], now: string): Promise<Map<string, JobState>> {
    if (names.length > 0) {
      await this.db
        .insertInto('jobs')
        .values(names.map((name) => ({ name, paused: 0, updated_at: now })))
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute();
    }
    const rows = await this.db.selectFrom('jobs').selectAll().where('name', 'in', names).execute();
    return new Map(
      rows.map((row) => [row.name, { name: row.name, paused: Number(row.paused) === 1, since: row.updated_at }]),
    );
  }

  /** Resolves whether the stored state changed (false when the job already was paused, or resumed). */
  async setPaused(name: string, paused: boolean, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ paused: paused ? 1 : 0, updated_at: now })
      .where('name', '=', name)
      .where('paused', '=', paused ? 0 : 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Those of `names` that are paused, as any replica last set them. */
  async pausedAmong(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const query = this.compiled.of(JSON.stringify(names), () =>
      this.db.selectFrom('jobs').select('name').where('name', 'in', names).where('paused', '=', 1),
    );
    const { rows } = await this.db.executeQuery(query);
    return new Set(rows.map((row) => row.name));
  }

  /** Whether the job is paused, as any replica last set it; undefined for a job this database does not know. */
  async isPaused(name: string): Promise<boolean | undefined> {
    const row = await this.db.selectFrom('jobs').select('paused').where('name', '=', name).executeTakeFirst();
    return row && Number(row.paused) === 1;
  }
}
