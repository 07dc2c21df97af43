import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

/** Enough for every query text the repositories compile, with room for lists of a few lengths (`in (?, ?)`). */
const CACHED_STATEMENTS = 200;

/**
 * A better-sqlite3 database handed to Kysely's SqliteDialect, which prepares every query it runs:
 * preparing costs more than running a short query, so each SQL text is prepared once and its
 * statement reused, the least recently used dropped past `capacity`. Reuse is safe: better-sqlite3
 * runs a statement to the end before it returns (Kysely's streamQuery, the one exception, is not
 * used), and SQLite prepares a statement again by itself when a migration changes the schema.
 */
export class CachedStatements implements KyselySqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly capacity = CACHED_STATEMENTS,
  ) {}

  prepare(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (statement) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.statements.delete(sql);
    } else {
      statement = this.sqlite.prepare(sql);
      if (this.statements.size >= this.capacity) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.sqlite.close();
  }
}
