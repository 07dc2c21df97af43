import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_MIGRATION_TABLE, Kysely, sql } from 'kysely';
import { DATABASE, migrationProvider } from './database.js';
import type { Database } from './schema.js';

/** Kysely's own ledger of applied migrations, which the `Database` interface does not describe. */
type MigrationLedger = Record<typeof DEFAULT_MIGRATION_TABLE, { name: string }>;

@Injectable()
export class HealthRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** Resolves once the database answers a trivial query; rejects with its error otherwise. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** The migrations this build knows that the database has not applied, in order. */
  async pendingMigrations(): Promise<string[]> {
    // One read of the ledger: Kysely's Migrator.getMigrations() would introspect every table first.
    const applied = await this.db
      .withTables<MigrationLedger>()
      .selectFrom(DEFAULT_MIGRATION_TABLE)
      .select('name')
      .execute();
    const appliedNames = new Set(applied.map((row) => row.name));
    const known = Object.keys(await migrationProvider.getMigrations()).sort();
    return known.filter((name) => !appliedNames.has(name));
  }
}
