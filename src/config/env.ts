import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsTimeZone,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { hostname } from 'node:os';
import { IsCronExpression } from '../schedules/is-cron-expression.validator.js';

/** Node cuts longer timers to 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Ten years: far beyond any sensible retention, and safely inside the range of a Date. */
const MAX_RETENTION_DAYS = 3650;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const toBoolean = ({ value }: { value: unknown }) =>
  value === true || value === 'true' || value === '1'
    ? true
    : value === false || value === 'false' || value === '0'
      ? false
      : value;

/** Every setting jobpulse reads from the environment, with its default; `.env.example` documents each. */
export class Env {
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  /** Comma-separated origins allowed for REST and socket.io, or `*` for any. */
  @IsString()
  @MinLength(1)
  CORS_ORIGINS = '*';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';

  /** `sqlite:<file>` (one process), or `postgres://…` for several replicas sharing one database. */
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)/, {
    message:
      'DATABASE_URL must be a sqlite: URL such as sqlite:./data/jobpulse.db or a postgres:// URL such as postgres://user:password@host:5432/jobpulse',
  })
  DATABASE_URL = 'sqlite:./data/jobpulse.db';

  /** PostgreSQL connections per replica (socket.io's adapter keeps two more of its own). */
  @IsInt()
  @Min(1)
  @Max(1000)
  DATABASE_POOL_SIZE = 10;

  /** This replica's name, recorded on each run it runs (`node`); unique among the replicas sharing a database. */
  @IsString()
  @Matches(/^[\w.:@-]{1,200}$/, { message: 'NODE_ID must be 1 to 200 letters, digits or . _ : @ -' })
  NODE_ID = `${hostname()}-${process.pid}`;

  /** Replaces the schedule `daily-report` declares (`0 0 7 * * ?`). */
  @IsOptional()
  @IsCronExpression()
  DAILY_REPORT_CRON?: string;

  /** Replaces the schedule `cleanup` declares (`0 0 * * * ?`). */
  @IsOptional()
  @IsCronExpression()
  CLEANUP_CRON?: string;

  @IsTimeZone({ message: 'JOBS_TIME_ZONE must be an IANA time zone such as UTC or Europe/Berlin' })
  JOBS_TIME_ZONE = 'UTC';

  @IsInt()
  @Min(1)
  @Max(MAX_RETENTION_DAYS)
  RUN_RETENTION_DAYS = 30;

  @IsInt()
  @Min(1)
  @Max(MAX_RETENTION_DAYS)
  REPORT_RETENTION_DAYS = 90;

  @IsInt()
  @Min(1)
  @Max(MAX_RETENTION_DAYS * 24)
  EVENT_RETENTION_HOURS = 24;

  @IsInt()
  @Min(0)
  @Max(MAX_TIMER_MS)
  SHUTDOWN_TIMEOUT_MS = 30000;

  @Transform(toBoolean)
  @IsBoolean({ message: 'REPORT_ON_STARTUP must be true or false' })
  REPORT_ON_STARTUP = true;

  /** A running run's lease: renewed while it runs; once expired, the run is marked abandoned. */
  @IsInt()
  @Min(1000)
  @Max(MAX_TIMER_MS)
  RUN_LEASE_MS = 15_000;

  /** A fire time missed while the service was down runs at start-up only if it is more recent than this. */
  @IsInt({ message: 'MISFIRE_THRESHOLD must be a duration such as 86400000, 90m, 24h or 2d' })
  @Min(0)
  @Max(MAX_RETENTION_DAYS * 86_400_000)
  MISFIRE_THRESHOLD = 24 * 60 * 60 * 1000;

  /**
   * Replicas that start within this long of a start-up report run it once
   * between them: a rolling restart makes one start-up report, not one per replica.
   */
  @IsInt({ message: 'STARTUP_RUN_WINDOW must be a duration such as 600000, 90s, 10m or 1h' })
  @Min(0)
  @Max(MAX_RETENTION_DAYS * 86_400_000)
  STARTUP_RUN_WINDOW = 10 * 60 * 1000;
}

export class EnvValidationError extends Error {}

const NUMERIC_KEYS = new Set([
  'PORT',
  'RUN_RETENTION_DAYS',
  'REPORT_RETENTION_DAYS',
  'EVENT_RETENTION_HOURS',
  'SHUTDOWN_TIMEOUT_MS',
  'RUN_LEASE_MS',
  'DATABASE_POOL_SIZE',
]);

/** Durations: milliseconds, or a number with a unit (`500ms`, `30s`, `15m`, `24h`, `2d`). */
const DURATION_KEYS = new Set(['MISFIRE_THRESHOLD', 'STARTUP_RUN_WINDOW']);
const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function toDuration(value: string): number | string {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(value);
  return match ? Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms'] : value;
}

/**
 * Reads the known variables from `source` (unset or empty means the default)
 * and validates them; throws one error naming every bad variable and what it accepts.
 */
export function loadEnv(source: Record<string, string | undefined>): Env {
  const defaults = new Env();
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = source[key]?.trim();
    if (value === undefined || value === '') continue;
    if (DURATION_KEYS.has(key)) raw[key] = toDuration(value);
    else raw[key] = NUMERIC_KEYS.has(key) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  const env = plainToInstance(Env, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new EnvValidationError(`Invalid environment:\n${errors.map(describe).join('\n')}`);
  }
  return env;
}

function describe(error: ValidationError): string {
  const got = JSON.stringify(typeof error.value === 'string' ? redactCredentials(error.value) : error.value);
  return `  ${error.property}=${got}: ${Object.values(error.constraints ?? {}).join('; ')}`;
}

/** Keeps passwords in URLs (DATABASE_URL) out of error messages and logs. */
export function redactCredentials(value: string): string {
  // Up to the last @ before the path: an unencoded @ in the password must not end the redaction early.
  return value.replace(/(\/\/[^/@:]*:)[^/]*@/, '$1***@');
}
