/**
 * What a failed query says about the database itself, in words a client can
 * act on; `undefined` for any other error (a bug, a constraint), which stays a
 * 500. Drivers' messages are not passed on: PostgreSQL's may name hosts and users.
 */
export function storageProblemOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return messageProblemOf(error);
  if (code === 'SQLITE_FULL' || code === '53100') return 'the database is full: its disk has no space left';
  if (code.startsWith('SQLITE_READONLY'))
    return 'the database cannot be written: its file was deleted, replaced or made read-only';
  if (code.startsWith('SQLITE_IOERR')) return 'the database file cannot be written: input/output error';
  if (code === 'SQLITE_CANTOPEN') return 'the database file cannot be opened';
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return 'the database file is damaged';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === '53300' || code === '55P03')
    return 'the database is busy; try again';
  if (
    code.startsWith('08') ||
    ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  )
    return 'the database cannot be reached';
  return undefined;
}

/** pg reports a lost or unobtainable connection without a code. */
function messageProblemOf(error: unknown): string | undefined {
  const message = (error as Error)?.message ?? '';
  if (
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    )
  )
    return 'the database cannot be reached';
  return undefined;
}
