import { pino, type Level, type LoggerOptions } from 'pino';
import type { LogLevelName } from '../config/env.js';

/** LOG_LEVEL speaks Nest's names; pino calls `log` `info` and `verbose` `trace`. */
const PINO_LEVELS: Record<LogLevelName, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * What every line has, the start-up failure written before the app exists included: the level by
 * name, `time` as an ISO instant, then pino's `pid` and `hostname`.
 */
export const LINE_FORMAT = {
  formatters: { level: (label: string) => ({ level: label }) },
  timestamp: pino.stdTimeFunctions.isoTime,
} satisfies LoggerOptions;

export const REDACTED = '[Redacted]';

/** Fields never written, whatever object carries them: credentials, and the headers that carry them. */
const SECRET_FIELDS = [
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'authorization',
  'cookie',
  'set-cookie',
];

/** Deep enough for a header inside a request inside a logged object (`x.req.headers.cookie`). */
const REDACT_DEPTH = 3;

/** pino's paths name each depth: `["token"]`, `*["token"]`, `*.*["token"]`, ... */
const REDACT_PATHS = SECRET_FIELDS.flatMap((field) =>
  Array.from(
    { length: REDACT_DEPTH + 1 },
    (_, depth) => `${Array(depth).fill('*').join('.')}[${JSON.stringify(field)}]`,
  ),
);

/** pino options of the application's logger, apart from the HTTP request lines. */
export function loggerOptions(level: LogLevelName): LoggerOptions {
  return {
    ...LINE_FORMAT,
    level: PINO_LEVELS[level],
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
}
