import { pino, type DestinationStream } from 'pino';
import { LINE_FORMAT } from './log-format.js';

/**
 * Writes the one `fatal` line of a start-up that failed, in the shape of every other line, to
 * standard error and synchronously (the process exits next). It needs neither the environment nor
 * the application, which may be what failed.
 */
export function writeStartUpFailure(
  message: string,
  err: DestinationStream = pino.destination({ fd: 2, sync: true }),
): void {
  pino(LINE_FORMAT, err).fatal({ context: 'Main' }, message);
}
