import type { Compilable, CompiledQuery } from 'kysely';

/** Enough for the catalogue's queries: one per job and one for all of them, of each kind. */
const COMPILED_QUERIES = 1000;

/**
 * Queries compiled once per key and kept, for queries whose text and parameters the key alone
 * determines: building and compiling a Kysely query with a sub-select per job costs more than the
 * database takes to run it. Past `capacity` keys, all are dropped and compiled again when asked.
 */
export class CompiledQueries {
  private readonly compiled = new Map<string, CompiledQuery<unknown>>();

  constructor(private readonly capacity = COMPILED_QUERIES) {}

  of<R>(key: string, build: () => Compilable<R>): CompiledQuery<R> {
    let query = this.compiled.get(key);
    if (!query) {
      if (this.compiled.size >= this.capacity) this.compiled.clear();
      query = build().compile();
      this.compiled.set(key, query);
    }
    return query;
  }
}
