import { storageProblemOf } from './storage-error.js';

const withCode = (code: string, message = 'driver detail with postgres://user:secret@db') =>
  Object.assign(new Error(message), { code });

describe('storageProblemOf', () => {
  it.each([
    ['SQLITE_FULL', 'the database is full: its disk has no space left'],
    ['53100', 'the database is full: its disk has no space left'],
    ['SQLITE_READONLY_DBMOVED', 'the database cannot be written: its file was deleted, replaced or made read-only'],
    ['SQLITE_IOERR_WRITE', 'the database file cannot be written: input/output error'],
    ['SQLITE_CANTOPEN', 'the database file cannot be opened'],
    ['SQLITE_NOTADB', 'the database file is damaged'],
    ['SQLITE_BUSY', 'the database is busy; try again'],
    ['53300', 'the database is busy; try again'],
    ['08006', 'the database cannot be reached'],
    ['57P01', 'the database cannot be reached'],
    ['ECONNREFUSED', 'the database cannot be reached'],
  ])('names %s', (code, problem) => {
    expect(storageProblemOf(withCode(code))).toBe(problem);
  });

  it('recognises a lost PostgreSQL connection by its message', () => {
    expect(storageProblemOf(new Error('Connection terminated unexpectedly'))).toBe('the database cannot be reached');
  });

  it.each([
    ['a constraint violation', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a PostgreSQL unique violation', withCode('23505')],
    ['a bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('leaves %s alone', (_case, error) => {
    expect(storageProblemOf(error)).toBeUndefined();
  });
});
