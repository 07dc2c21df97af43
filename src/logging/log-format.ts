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
const SECRET_FIELDS = new Set([
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
]);

/** Deep enough for a header inside a request inside a logged object (`x.req.headers.cookie`). */
const REDACT_DEPTH = 3;

/**
 * The value with every secret field, in plain objects and arrays down to REDACT_DEPTH levels,
 * replaced by REDACTED; the value itself when it holds none (nothing is copied on the common path).
 * Instances of classes (a request, an error) are left to their serializers.
 * pino's own `redact` does this with a wildcard path per field and depth, which cost about
 * 0.3 ms per line, more than writing the line: every request and run writes lines.
 */
export function withoutSecrets<T>(value: T): T {
  return redacted(value, 0) as T;
}

function redacted(value: unknown, depth: number): unknown {
  if (depth > REDACT_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    let copy: unknown[] | undefined;
    items.forEach((item, index) => {
      const kept = redacted(item, depth + 1);
      if (kept !== item) (copy ??= [...items])[index] = kept;
    });
    return copy ?? value;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const fields = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const [key, field] of Object.entries(fields)) {
    const kept = SECRET_FIELDS.has(key) ? REDACTED : redacted(field, depth + 1);
    if (kept !== field) (copy ??= { ...fields })[key] = kept;
  }
  return copy ?? value;
}

/** A child logger's fields pass through serializers, not the formatters: these hide its secrets. */
const SECRET_SERIALIZERS = Object.fromEntries([...SECRET_FIELDS].map((field) => [field, () => REDACTED]));

/** pino options of the application's logger, with `serializers` of its own for some fields. */
export function loggerOptions(level: LogLevelName, serializers: LoggerOptions['serializers'] = {}): LoggerOptions {
  return {
    ...LINE_FORMAT,
    level: PINO_LEVELS[level],
    formatters: { ...LINE_FORMAT.formatters, log: withoutSecrets },
    serializers: { ...serializers, ...SECRET_SERIALIZERS },
  };
}
