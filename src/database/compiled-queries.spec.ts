import { jest } from '@jest/globals';
import { CompiledQuery, type Compilable } from 'kysely';
import { CompiledQueries } from './compiled-queries.js';

/** A query builder whose compilations are counted. */
function builder(text: string) {
  const compile = jest.fn(() => CompiledQuery.raw(text, [text]));
  return { query: { compile } as Compilable<unknown>, compile };
}

describe('CompiledQueries', () => {
  it('compiles the query of a key once', () => {
    const queries = new CompiledQueries();
    const paused = builder('select paused');

    const first = queries.of('paused', () => paused.query);

    expect(queries.of('paused', () => builder('never built').query)).toBe(first);
    expect(first.sql).toBe('select paused');
    expect(paused.compile).toHaveBeenCalledTimes(1);
  });

  it('compiles each key its own query', () => {
    const queries = new CompiledQueries();

    expect(queries.of('a', () => builder('select a').query).sql).toBe('select a');
    expect(queries.of('b', () => builder('select b').query).sql).toBe('select b');
  });

  it('drops every query past its capacity, and compiles one again when asked', () => {
    const queries = new CompiledQueries(2);
    const a = builder('select a');
    queries.of('a', () => a.query);
    queries.of('b', () => builder('select b').query);
    queries.of('c', () => builder('select c').query);

    queries.of('a', () => a.query);

    expect(a.compile).toHaveBeenCalledTimes(2);
  });
});
