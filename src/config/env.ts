import {
  IsOptional,
  IsString,
  IsTimeZone,
  IsUrl,
  Matches,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { hostname } from 'node:os';
import { cronExpressionProblem } from '../schedules/is-cron-expression.validator.js';
import { declaredVariables, Variable } from './variable.decorator.js';

/** Node cuts longer timers to 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Ten years: far beyond any sensible retention, and safely inside the range of a Date. */
const MAX_RETENTION_DAYS = 3650;
const MAX_RETENTION_MS = MAX_RETENTION_DAYS * 86_400_000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnvName = (typeof NODE_ENVS)[number];

export const AUTH_MODES = ['jwt', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Every setting jobpulse reads from the environment: its kind, validation, default and meaning.
 * `.env.example` and docs/configuration.md are generated from it (`npm run config:docs`).
 */
export class Env {
  @Variable.integer({
    min: 0,
    max: 65535,
    group: 'Server',
    meaning: 'HTTP and socket.io port (`0` picks a free port).',
  })
  PORT = 3000;

  @Variable.string({
    group: 'Server',
    meaning: 'Address to listen on, e.g. `127.0.0.1` to accept local connections only.',
    accepts: 'a host name or IP address',
  })
  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @Variable.string({
    group: 'Server',
    meaning: 'Browser origins allowed to call the REST API and connect to socket.io.',
    accepts: 'comma-separated origins (`https://app.example.com,http://localhost:5173`), or `*` for any',
  })
  @IsString()
  @MinLength(1)
  CORS_ORIGINS = '*';

  @Variable.oneOf(LOG_LEVELS, {
    group: 'Server',
    meaning:
      'Most verbose log level written, as JSON lines (`error` and `fatal` on stderr, the rest on stdout). ' +
      '`debug` adds each published event, client connections and ignored ticks of paused jobs.',
  })
  LOG_LEVEL: LogLevelName = 'log';

  @Variable.oneOf(NODE_ENVS, {
    group: 'Server',
    meaning:
      '`production` refuses to start without sign-in or with `CORS_ORIGINS=*`; `development` writes readable ' +
      'logs instead of JSON lines.',
  })
  NODE_ENV: NodeEnvName = 'development';

  @Variable.oneOf(AUTH_MODES, {
    group: 'Sign-in and roles',
    meaning:
      '`jwt`: every request and socket needs a bearer token (JWT) from your identity provider, and a role. `off`: ' +
      'anyone who reaches the port is an operator, for local development only (a warning says so at start-up; ' +
      'refused when `NODE_ENV=production`).',
    computedDefault: {
      shownAs: '`jwt` when `NODE_ENV=production` or `AUTH_JWKS_URL` or `AUTH_JWT_SECRET` is set, else `off`',
      example: 'jwt',
    },
  })
  AUTH_MODE: AuthMode = 'off';

  @Variable.string({
    group: 'Sign-in and roles',
    meaning:
      "Your OpenID Connect provider's key set (its `jwks_uri`), for RS256, PS256, ES256 and EdDSA tokens. Fetched " +
      'when first needed, cached for 10 minutes, and fetched again when a token names an unknown key.',
    accepts: 'an `https://` (or `http://`) URL',
  })
  @IsOptional()
  @IsUrl(
    { require_protocol: true, protocols: ['http', 'https'], require_tld: false },
    {
      message:
        'AUTH_JWKS_URL must be an http:// or https:// URL such as https://login.example.com/.well-known/jwks.json',
    },
  )
  AUTH_JWKS_URL?: string;

  @Variable.duration({
    min: 0,
    max: 60 * 60 * 1000,
    group: 'Sign-in and roles',
    meaning:
      'After fetching `AUTH_JWKS_URL`, how long a token naming an unknown key is refused without fetching it again: ' +
      'a rotated key is picked up after at most this long, and bad tokens cannot flood the provider.',
  })
  AUTH_JWKS_COOLDOWN = 30_000;

  @Variable.string({
    group: 'Sign-in and roles',
    meaning: 'A shared secret for HS256 tokens, instead of `AUTH_JWKS_URL`. Never logged.',
    accepts: 'at least 32 characters',
    secret: true,
  })
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)' })
  AUTH_JWT_SECRET?: string;

  @Variable.string({
    group: 'Sign-in and roles',
    meaning: "The `iss` every token must carry: your provider's issuer URL. Required when `AUTH_MODE=jwt`.",
    accepts: 'the exact issuer, such as `https://login.example.com/realms/ops`',
  })
  @IsOptional()
  @IsString()
  AUTH_ISSUER?: string;

  @Variable.string({
    group: 'Sign-in and roles',
    meaning:
      'The `aud` every token must include: the client or API jobpulse is registered as. Required when `AUTH_MODE=jwt`.',
    accepts: 'one audience, such as `jobpulse`',
  })
  @IsOptional()
  @IsString()
  AUTH_AUDIENCE?: string;

  @Variable.string({
    group: 'Sign-in and roles',
    meaning:
      "The token claim holding the user's roles: a claim name (`roles`, `https://example.com/roles`) or a dotted " +
      'path into nested claims (`realm_access.roles`, Keycloak). An array of names or one space-separated string.',
    accepts: 'a claim name or dotted path',
  })
  @IsString()
  @Matches(/^\S+$/, { message: 'AUTH_ROLES_CLAIM must be a claim name or a dotted path such as realm_access.roles' })
  AUTH_ROLES_CLAIM = 'roles';

  @Variable.string({
    group: 'Sign-in and roles',
    meaning: 'The role name, in your tokens, that may read jobs, runs, reports, events and previews, and subscribe.',
    accepts: 'a role name',
  })
  @IsString()
  @MinLength(1)
  AUTH_VIEWER_ROLE = 'viewer';

  @Variable.string({
    group: 'Sign-in and roles',
    meaning: 'The role name, in your tokens, that may also trigger, retry, pause and resume jobs.',
    accepts: 'a role name',
  })
  @IsString()
  @MinLength(1)
  AUTH_OPERATOR_ROLE = 'operator';

  @Variable.duration({
    min: 0,
    max: 5 * 60 * 1000,
    group: 'Sign-in and roles',
    meaning: "How far a token's `exp` and `nbf` may be off, for clocks that differ between machines.",
  })
  AUTH_CLOCK_TOLERANCE = 30_000;

  @Variable.string({
    group: 'Sign-in and roles',
    meaning:
      'When set, `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>` (a Prometheus `bearer_token`). ' +
      'Unset, it needs none. Never logged.',
    accepts: 'at least 16 characters',
    secret: true,
  })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  @Variable.integer({
    min: 0,
    max: 10,
    group: 'Limits',
    meaning:
      'How many proxies (nginx, a load balancer) stand in front of jobpulse: their `X-Forwarded-For` gives the ' +
      'client address that rate limits count by. `0` trusts none.',
  })
  TRUST_PROXY = 0;

  @Variable.integer({
    min: 1,
    max: 1_000_000,
    group: 'Limits',
    meaning: 'REST reads each client (user, or address without sign-in) may make per minute; then `429`.',
  })
  RATE_LIMIT_READS = 600;

  @Variable.integer({
    min: 1,
    max: 1_000_000,
    group: 'Limits',
    meaning: 'Triggers, retries, pauses, resumes and schedule previews each client may make per minute; then `429`.',
  })
  RATE_LIMIT_WRITES = 30;

  @Variable.integer({
    min: 1,
    max: 10_000,
    group: 'Limits',
    meaning: 'socket.io messages each socket may send per second; a socket that keeps sending faster is disconnected.',
  })
  SOCKET_MESSAGES_PER_SECOND = 20;

  @Variable.integer({
    min: 1,
    max: 100_000,
    group: 'Limits',
    meaning: 'Sockets one user (token `sub`, or one address without sign-in) may hold open at once.',
  })
  SOCKETS_PER_USER = 20;

  @Variable.string({
    group: 'Database and replicas',
    meaning:
      "Where runs, reports, events and each job's pause state are stored. A `sqlite:` path is relative to the " +
      'working directory and its folder is created; `sqlite::memory:` keeps everything in memory. PostgreSQL lets ' +
      'several replicas share one database. The password never appears in logs or errors.',
    accepts:
      'a `sqlite:` URL with a file path, or `sqlite::memory:`; or a `postgres://` (`postgresql://`) URL such as `postgres://jobpulse:password@db:5432/jobpulse`',
  })
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)/, {
    message:
      'DATABASE_URL must be a sqlite: URL such as sqlite:./data/jobpulse.db or a postgres:// URL such as postgres://user:password@host:5432/jobpulse',
  })
  DATABASE_URL = 'sqlite:./data/jobpulse.db';

  @Variable.integer({
    min: 1,
    max: 1000,
    group: 'Database and replicas',
    meaning: "PostgreSQL connections per replica (socket.io's adapter keeps two more of its own). Ignored for SQLite.",
  })
  DATABASE_POOL_SIZE = 10;

  @Variable.string({
    group: 'Database and replicas',
    meaning:
      "This replica's name, recorded as `node` on each run it runs; unique among the replicas sharing a database.",
    accepts: '1 to 200 letters, digits or `. _ : @ -`',
    computedDefault: { shownAs: '`<hostname>-<pid>`', example: 'replica-1' },
  })
  @IsString()
  @Matches(/^[\w.:@-]{1,200}$/, { message: 'NODE_ID must be 1 to 200 letters, digits or . _ : @ -' })
  NODE_ID = `${hostname()}-${process.pid}`;

  @Variable.duration({
    min: 0,
    max: MAX_RETENTION_MS,
    group: 'Database and replicas',
    meaning:
      'Replicas that start within this long of a start-up report make it once between them: a rolling restart ' +
      'makes one report, not one per replica. `0` gives every start-up its report.',
  })
  STARTUP_RUN_WINDOW = 10 * 60 * 1000;

  @Variable.string({
    group: 'Scheduling',
    meaning:
      "Time zone every job's schedule is read in (unless its `@Cron` names one). A daily 07:00 stays at 07:00 " +
      'local time across daylight saving changes.',
    accepts: 'an IANA time zone name such as `UTC` or `Europe/Berlin`',
  })
  @IsTimeZone({ message: 'JOBS_TIME_ZONE must be an IANA time zone such as UTC or Europe/Berlin' })
  JOBS_TIME_ZONE = 'UTC';

  @Variable.duration({
    min: 0,
    max: MAX_RETENTION_MS,
    group: 'Scheduling',
    meaning:
      'At start-up, the most recent fire time a job missed while the service was down runs once (trigger ' +
      '`catch-up`) if it is more recent than this. `0` turns catching up off.',
  })
  MISFIRE_THRESHOLD = 24 * 60 * 60 * 1000;

  @Variable.boolean({
    group: 'Runs',
    meaning: 'Whether a daily report is generated once at start-up (trigger `startup`).',
  })
  REPORT_ON_STARTUP = true;

  @Variable.integer({
    min: 0,
    max: MAX_TIMER_MS,
    group: 'Runs',
    meaning:
      'On SIGTERM or SIGINT, how many milliseconds running jobs may take to finish before they are aborted and ' +
      'recorded `interrupted`.',
  })
  SHUTDOWN_TIMEOUT_MS = 30000;

  @Variable.integer({
    min: 1000,
    max: MAX_TIMER_MS,
    group: 'Runs',
    meaning:
      'Lease of a running run, in milliseconds, renewed every third of it while the run goes on. A run whose lease ' +
      'expired (its process was killed or crashed) is recorded `abandoned`; every replica checks at start-up and ' +
      'every fifth of `RUN_LEASE_MS`.',
  })
  RUN_LEASE_MS = 15_000;

  @Variable.integer({
    min: 1,
    max: MAX_RETENTION_DAYS,
    group: 'Retention',
    meaning:
      'The `cleanup` job removes runs that started longer ago than this many days (running runs never). Days are ' +
      '24-hour spans of elapsed time, not calendar days.',
  })
  RUN_RETENTION_DAYS = 30;

  @Variable.integer({
    min: 1,
    max: MAX_RETENTION_DAYS,
    group: 'Retention',
    meaning: 'The `cleanup` job removes reports created longer ago than this many days.',
  })
  REPORT_RETENTION_DAYS = 90;

  @Variable.integer({
    min: 1,
    max: MAX_RETENTION_DAYS * 24,
    group: 'Retention',
    meaning:
      'The `cleanup` job removes stored events older than this many hours: how far back `GET /api/events` can catch up.',
  })
  EVENT_RETENTION_HOURS = 24;

  /** `<JOB_NAME>_CRON` variables by name; private so that they stay out of spreads and validation. */
  readonly #cronOverrides: ReadonlyMap<string, string>;

  constructor(cronOverrides: ReadonlyMap<string, string> = new Map()) {
    this.#cronOverrides = cronOverrides;
  }

  /** Every `*_CRON` variable given, whether or not it names a job. */
  cronOverrideVariables(): string[] {
    return [...this.#cronOverrides.keys()];
  }

  /** The schedule the environment gives this job, if any: the variable's name (for error messages) and its value. */
  cronOverrideOf(jobName: string): { variable: string; value: string } | undefined {
    const variable = cronVariableOf(jobName);
    const value = this.#cronOverrides.get(variable);
    return value === undefined ? undefined : { variable, value };
  }
}

/**
 * `invoice-sync` -> `INVOICE_SYNC_CRON`: the job's name in upper snake case
 * (each `-` or `.` becomes `_`, and `invoiceSync` is split like `invoice-sync`).
 */
export function cronVariableOf(jobName: string): string {
  return `${jobName
    .replace(/([a-z0-9])(?=[A-Z])/g, '$1_')
    .replace(/[.-]/g, '_')
    .toUpperCase()}_CRON`;
}

/** How `.env.example` and the docs describe the `<JOB_NAME>_CRON` family. */
export const CRON_OVERRIDES = {
  meaning:
    'Replaces the schedule of the job of that name (its name in upper snake case: `invoice-sync` reads ' +
    '`INVOICE_SYNC_CRON`), or gives an on-demand job one. A bad expression stops start-up naming the variable; ' +
    '`GET /api/schedules/preview?cron=...` shows what one does.',
  accepts:
    'a Quartz cron expression (`sec min hour day month weekday [year]`, `?` in one day field; `L`, `W`, `#` and years work) or a 5- or 6-field `@nestjs/schedule` one',
  /** The built-in jobs' variables, as examples; `declared` repeats what their `@Cron` says (src/jobs/builtin/). */
  builtIn: [
    { job: 'daily-report', declared: '0 0 7 * * ?', meaning: 'The built-in `daily-report` job: 07:00 every day.' },
    {
      job: 'cleanup',
      declared: '0 0 * * * ?',
      meaning: 'The built-in `cleanup` job (it removes old runs, reports and events): every hour on the hour.',
    },
  ],
} as const;

export class EnvValidationError extends Error {}

/**
 * Reads the declared variables from `source` (unset or empty means the default) and validates them;
 * throws one error naming every bad variable and what it accepts. Every `*_CRON` variable is kept
 * for `cronOverrideOf`, and must be a cron expression.
 */
export function loadEnv(source: Record<string, string | undefined>): Env {
  const given: Record<string, unknown> = {};
  for (const variable of declaredVariables(Env)) {
    const text = source[variable.name]?.trim();
    if (text) given[variable.name] = variable.parse(text);
  }
  const cronOverrides = cronOverridesIn(source);
  const env = Object.assign(new Env(cronOverrides), given);
  if (given.AUTH_MODE === undefined) env.AUTH_MODE = defaultAuthMode(env);
  const problems = [
    ...validateSync(env, { forbidUnknownValues: true }).map(describe),
    ...cronProblems(cronOverrides),
    ...securityProblems(env),
  ];
  if (problems.length > 0) throw new EnvValidationError(`Invalid environment:\n${problems.join('\n')}`);
  return env;
}

function cronOverridesIn(source: Record<string, string | undefined>): ReadonlyMap<string, string> {
  const overrides = new Map<string, string>();
  for (const [name, value] of Object.entries(source)) {
    const text = value?.trim();
    if (name.endsWith('_CRON') && text) overrides.set(name, text);
  }
  return overrides;
}

/**
 * Checked here, before anything starts, for whichever job they name: an expression is valid or not in
 * any time zone, and the registry warns about a variable that names no job.
 */
function cronProblems(overrides: ReadonlyMap<string, string>): string[] {
  return [...overrides].flatMap(([variable, value]) => {
    const problem = cronExpressionProblem(value);
    return problem
      ? [`  ${variable}=${JSON.stringify(value)}: ${variable} is not a valid cron expression: ${problem}`]
      : [];
  });
}

function defaultAuthMode(env: Env): AuthMode {
  return env.NODE_ENV === 'production' || env.AUTH_JWKS_URL || env.AUTH_JWT_SECRET ? 'jwt' : 'off';
}

type SecurityVariable =
  'AUTH_MODE' | 'CORS_ORIGINS' | 'AUTH_JWKS_URL' | 'AUTH_JWT_SECRET' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE';

/** Settings that are each valid but together would leave the service open, or sign-in unusable. */
function securityProblems(env: Env): string[] {
  const problems: string[] = [];
  const problem = (variable: SecurityVariable, message: string) =>
    problems.push(`  ${variable}=${shown(variable, env[variable] ?? '')}: ${message}`);
  if (env.NODE_ENV === 'production') {
    if (env.AUTH_MODE === 'off')
      problem('AUTH_MODE', 'AUTH_MODE=off is refused when NODE_ENV=production: set AUTH_JWKS_URL or AUTH_JWT_SECRET');
    if (env.CORS_ORIGINS.split(',').some((origin) => origin.trim() === '*'))
      problem(
        'CORS_ORIGINS',
        'CORS_ORIGINS=* is refused when NODE_ENV=production: list the origins of your apps, such as https://app.example.com',
      );
  }
  if (env.AUTH_MODE === 'jwt') {
    if (!env.AUTH_JWKS_URL && !env.AUTH_JWT_SECRET)
      problem('AUTH_JWKS_URL', 'AUTH_MODE=jwt needs AUTH_JWKS_URL (an identity provider) or AUTH_JWT_SECRET (HS256)');
    if (env.AUTH_JWKS_URL && env.AUTH_JWT_SECRET)
      problem('AUTH_JWT_SECRET', 'set AUTH_JWKS_URL or AUTH_JWT_SECRET, not both');
    if (!env.AUTH_ISSUER) problem('AUTH_ISSUER', 'AUTH_ISSUER is required when AUTH_MODE=jwt');
    if (!env.AUTH_AUDIENCE) problem('AUTH_AUDIENCE', 'AUTH_AUDIENCE is required when AUTH_MODE=jwt');
  }
  return problems;
}

const SECRET_VARIABLES = new Set(
  declaredVariables(Env)
    .filter((variable) => variable.secret)
    .map((variable) => variable.name),
);

function describe(error: ValidationError): string {
  return `  ${error.property}=${shown(error.property, error.value)}: ${Object.values(error.constraints ?? {}).join('; ')}`;
}

/** A value as an error message may show it: secrets never, passwords in URLs neither. */
function shown(variable: string, value: unknown): string {
  if (SECRET_VARIABLES.has(variable)) return '***';
  return JSON.stringify(typeof value === 'string' ? redactCredentials(value) : value);
}

/**
 * A `user:password@` in a URL or a message, with or without a scheme and `//`, and however malformed
 * (`postgres:/user:pw@host`, `user:pw@host`): the user name is kept, the password is what follows its `:`,
 * up to the last `@` of the line, since an unencoded `@`, `/` or space may be part of it. A `scheme://`
 * is never taken for a user name and password, so `postgres://user@host` and `http://host:8080` stay whole.
 */
const CREDENTIALS = /((?:[a-z][a-z\d+.-]*:(?=\/))?\/*[^\s:/@"'=]*:)(?!\/\/|\s).*@/gi;

/** Keeps passwords in URLs (DATABASE_URL) out of error messages and logs; hides too much rather than too little. */
export function redactCredentials(value: string): string {
  return value.replace(CREDENTIALS, '$1***@');
}
