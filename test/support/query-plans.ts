import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type QueryId, type RootOperationNode } from 'kysely';
import type { Database } from '../../src/database/schema.js';
import { testDialect } from './database.js';

/** Every query made through the database it is plugged into (`db.withPlugin(recorder)`), to be explained afterwards. */
export class QueryRecorder implements KyselyPlugin {
  readonly queries: { node: RootOperationNode; queryId: QueryId }[] = [];

  transformQuery({ node, queryId }: { node: RootOperationNode; queryId: QueryId }): RootOperationNode {
    this.queries.push({ node, queryId });
    return node;
  }

  transformResult<R>({ result }: { result: R }): Promise<R> {
    return Promise.resolve(result);
  }

  /** The recorded queries as `db` would send them. */
  compiled(db: Kysely<Database>): CompiledQuery[] {
    return this.queries.map(({ node, queryId }) => db.getExecutor().compileQuery(node, queryId));
  }
}

/**
 * The plan the database would follow for `query`: SQLite's EXPLAIN QUERY PLAN details, or
 * PostgreSQL's EXPLAIN lines with sequential scans (and, with `sortsPricedOut`, sorts) priced out,
 * so that any usable index is taken however small the table: a plan that still reads a whole table
 * has no index for it.
 */
export async function planOf(
  db: Kysely<Database>,
  query: CompiledQuery,
  { sortsPricedOut = false }: { sortsPricedOut?: boolean } = {},
): Promise<string[]> {
  if (testDialect() === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
    );
    return rows.map((row) => row.detail);
  }
  return db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    if (sortsPricedOut) await sql`set local enable_sort = off`.execute(trx);
    const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
    );
    return rows.map((row) => row['QUERY PLAN'].trim());
  });
}
