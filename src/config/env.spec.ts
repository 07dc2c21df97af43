import { hostname } from 'node:os';
import { cronVariableOf, Env, EnvValidationError, loadEnv, redactCredentials } from './env.js';

function validationErrorOf(source: Record<string, string | undefined>): EnvValidationError {
  try {
    loadEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvValidationError);
    return error as EnvValidationError;
  }
  throw new Error(`expected loadEnv(${JSON.stringify(source)}) to throw`);
}

/** The variables an error message names, from its `  NAME="value": ...` lines. */
function namedVariables(error: Error): string[] {
  return [...error.message.matchAll(/^ {2}([A-Z_]+)=/gm)].map((match) => match[1]).sort();
}

describe('loadEnv', () => {
  it('returns the defaults for an empty environment', () => {
    const env = loadEnv({});

    expect(env).toBeInstanceOf(Env);
    expect({ ...env }).toEqual({
      PORT: 3000,
      HOST: '0.0.0.0',
      CORS_ORIGINS: '*',
      LOG_LEVEL: 'log',
      DATABASE_URL: 'sqlite:./data/jobpulse.db',
      DATABASE_POOL_SIZE: 10,
      NODE_ID: `${hostname()}-${process.pid}`,
      JOBS_TIME_ZONE: 'UTC',
      RUN_RETENTION_DAYS: 30,
      REPORT_RETENTION_DAYS: 90,
      EVENT_RETENTION_HOURS: 24,
      SHUTDOWN_TIMEOUT_MS: 30000,
      REPORT_ON_STARTUP: true,
      RUN_LEASE_MS: 15000,
      MISFIRE_THRESHOLD: 86_400_000,
      STARTUP_RUN_WINDOW: 600_000,
      NODE_ENV: 'development',
      AUTH_MODE: 'off',
      AUTH_JWKS_URL: undefined,
      AUTH_JWKS_COOLDOWN: 30_000,
      AUTH_JWT_SECRET: undefined,
      AUTH_ISSUER: undefined,
      AUTH_AUDIENCE: undefined,
      AUTH_ROLES_CLAIM: 'roles',
      AUTH_VIEWER_ROLE: 'viewer',
      AUTH_OPERATOR_ROLE: 'operator',
      AUTH_CLOCK_TOLERANCE: 30_000,
      METRICS_TOKEN: undefined,
      TRUST_PROXY: 0,
      RATE_LIMIT_READS: 600,
      RATE_LIMIT_WRITES: 30,
      SOCKET_MESSAGES_PER_SECOND: 20,
      SOCKETS_PER_USER: 20,
    });
  });

  it('treats empty and blank values as unset', () => {
    const env = loadEnv({ PORT: '', LOG_LEVEL: '   ', JOBS_TIME_ZONE: undefined });

    expect(env.PORT).toBe(3000);
    expect(env.LOG_LEVEL).toBe('log');
    expect(env.JOBS_TIME_ZONE).toBe('UTC');
  });

  it('parses numbers', () => {
    const env = loadEnv({
      PORT: '8080',
      RUN_RETENTION_DAYS: '7',
      REPORT_RETENTION_DAYS: '365',
      EVENT_RETENTION_HOURS: ' 48 ',
      SHUTDOWN_TIMEOUT_MS: '0',
      RUN_LEASE_MS: '5000',
    });

    expect(env.PORT).toBe(8080);
    expect(env.RUN_RETENTION_DAYS).toBe(7);
    expect(env.REPORT_RETENTION_DAYS).toBe(365);
    expect(env.EVENT_RETENTION_HOURS).toBe(48);
    expect(env.SHUTDOWN_TIMEOUT_MS).toBe(0);
    expect(env.RUN_LEASE_MS).toBe(5000);
  });

  it('accepts the smallest RUN_LEASE_MS, 1000', () => {
    expect(loadEnv({ RUN_LEASE_MS: '1000' }).RUN_LEASE_MS).toBe(1000);
  });

  it.each([
    ['90m', 5_400_000],
    ['24h', 86_400_000],
    ['2d', 172_800_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['3600000', 3_600_000],
    ['0', 0],
    [' 12h ', 43_200_000],
  ])('reads MISFIRE_THRESHOLD=%s as %s ms', (value, expected) => {
    expect(loadEnv({ MISFIRE_THRESHOLD: value }).MISFIRE_THRESHOLD).toBe(expected);
  });

  it.each(['postgres://jobpulse:pw@db:5432/jobs', 'postgresql://db/jobs', 'sqlite:/var/lib/jobpulse.db'])(
    'accepts DATABASE_URL=%s',
    (url) => {
      expect(loadEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    },
  );

  it('reads the cluster settings', () => {
    const env = loadEnv({ DATABASE_POOL_SIZE: '25', NODE_ID: 'api-7f9c.eu-west_1', STARTUP_RUN_WINDOW: '90s' });

    expect(env.DATABASE_POOL_SIZE).toBe(25);
    expect(env.NODE_ID).toBe('api-7f9c.eu-west_1');
    expect(env.STARTUP_RUN_WINDOW).toBe(90_000);
  });

  it('takes the string settings as given', () => {
    const env = loadEnv({
      HOST: '127.0.0.1',
      CORS_ORIGINS: 'http://a.example,http://b.example',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'sqlite::memory:',
      JOBS_TIME_ZONE: 'Europe/Berlin',
    });

    expect(env.HOST).toBe('127.0.0.1');
    expect(env.CORS_ORIGINS).toBe('http://a.example,http://b.example');
    expect(env.LOG_LEVEL).toBe('debug');
    expect(env.DATABASE_URL).toBe('sqlite::memory:');
    expect(env.JOBS_TIME_ZONE).toBe('Europe/Berlin');
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
  ])('reads REPORT_ON_STARTUP=%s as %s', (value, expected) => {
    expect(loadEnv({ REPORT_ON_STARTUP: value }).REPORT_ON_STARTUP).toBe(expected);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['LOG_LEVEL', 'loud'],
    ['JOBS_TIME_ZONE', 'Mars/Olympus'],
    ['DATABASE_URL', 'mysql://x'],
    ['RUN_RETENTION_DAYS', '0'],
    ['REPORT_RETENTION_DAYS', '0'],
    ['EVENT_RETENTION_HOURS', 'soon'],
    ['SHUTDOWN_TIMEOUT_MS', '-5'],
    ['SHUTDOWN_TIMEOUT_MS', '2147483648'],
    ['RUN_RETENTION_DAYS', '3651'],
    ['EVENT_RETENTION_HOURS', '87601'],
    ['REPORT_ON_STARTUP', 'yes'],
    ['RUN_LEASE_MS', 'soon'],
    ['RUN_LEASE_MS', '-1'],
    ['RUN_LEASE_MS', '5x'],
    ['RUN_LEASE_MS', '999'],
    ['RUN_LEASE_MS', '15s'],
    ['MISFIRE_THRESHOLD', 'soon'],
    ['MISFIRE_THRESHOLD', '-1'],
    ['MISFIRE_THRESHOLD', '5x'],
    ['MISFIRE_THRESHOLD', '1.5h'],
    ['DATABASE_URL', 'postgres:/missing-slash'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', 'many'],
    ['NODE_ID', 'has space'],
    ['STARTUP_RUN_WINDOW', 'a while'],
  ])('rejects %s=%s with an EnvValidationError naming that variable', (name, value) => {
    const error = validationErrorOf({ [name]: value });

    expect(namedVariables(error)).toEqual([name]);
    expect(error.message).toContain(`${name}=`);
    expect(error.message).toContain(value);
  });

  it('reports a bad integer with every rule it breaks, as docs/operations.md shows', () => {
    expect(validationErrorOf({ PORT: 'abc' }).message).toBe(
      'Invalid environment:\n  PORT="abc": PORT must not be greater than 65535; PORT must not be less than 0; PORT must be an integer number',
    );
  });

  it('says what MISFIRE_THRESHOLD accepts', () => {
    expect(validationErrorOf({ MISFIRE_THRESHOLD: 'soon' }).message).toContain(
      'MISFIRE_THRESHOLD must be a duration such as 86400000, 90m, 24h or 2d',
    );
  });

  it('names every bad variable in one error', () => {
    const error = validationErrorOf({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      JOBS_TIME_ZONE: 'Mars/Olympus',
      MISFIRE_THRESHOLD: 'soon',
      DATABASE_URL: 'mysql://x',
      RUN_RETENTION_DAYS: '0',
      HOST: 'localhost',
    });

    expect(namedVariables(error)).toEqual(
      ['DATABASE_URL', 'JOBS_TIME_ZONE', 'LOG_LEVEL', 'MISFIRE_THRESHOLD', 'PORT', 'RUN_RETENTION_DAYS'].sort(),
    );
  });

  it('ignores unknown variables', () => {
    const env = loadEnv({ PATH: '/usr/bin', SOMETHING_ELSE: 'garbage', PORT: '4000' });

    expect(env.PORT).toBe(4000);
    expect(env).not.toHaveProperty('PATH');
    expect(env).not.toHaveProperty('SOMETHING_ELSE');
  });

  it('keeps the password of a rejected DATABASE_URL out of the message', () => {
    const error = validationErrorOf({ DATABASE_URL: 'mysql://jobpulse:s3cret-pw@db.internal:3306/jobs' });

    expect(error.message).toContain('DATABASE_URL="mysql://jobpulse:***@db.internal:3306/jobs"');
    expect(error.message).not.toContain('s3cret-pw');
  });
});

describe('cron overrides', () => {
  it.each([
    ['invoice-sync', 'INVOICE_SYNC_CRON'],
    ['daily-report', 'DAILY_REPORT_CRON'],
    ['cleanup', 'CLEANUP_CRON'],
    ['billing.export_v2', 'BILLING_EXPORT_V2_CRON'],
    ['invoiceSync', 'INVOICE_SYNC_CRON'],
  ])('names the variable of job %s %s', (jobName, variable) => {
    expect(cronVariableOf(jobName)).toBe(variable);
  });

  it("gives each job the trimmed value of its variable, and the variable's name", () => {
    const env = loadEnv({
      DAILY_REPORT_CRON: ' 0 30 6 ? * MON-FRI ',
      CLEANUP_CRON: '*/5 * * * *',
      INVOICE_SYNC_CRON: '0 0/15 8-18 ? * MON-FRI',
    });

    expect(env.cronOverrideOf('daily-report')).toEqual({ variable: 'DAILY_REPORT_CRON', value: '0 30 6 ? * MON-FRI' });
    expect(env.cronOverrideOf('cleanup')).toEqual({ variable: 'CLEANUP_CRON', value: '*/5 * * * *' });
    expect(env.cronOverrideOf('invoice-sync')).toEqual({
      variable: 'INVOICE_SYNC_CRON',
      value: '0 0/15 8-18 ? * MON-FRI',
    });
  });

  it('gives no override when the variable is unset, empty or blank, for the jobs to keep their own schedule', () => {
    const env = loadEnv({ DAILY_REPORT_CRON: '', CLEANUP_CRON: '  ', INVOICE_SYNC_SCHEDULE: '0 0 * * * ?' });

    expect(env.cronOverrideOf('daily-report')).toBeUndefined();
    expect(env.cronOverrideOf('cleanup')).toBeUndefined();
    expect(env.cronOverrideOf('invoice-sync')).toBeUndefined();
  });

  it.each([
    ['DAILY_REPORT_CRON', 'garbage', '"garbage" has 1 fields'],
    ['CLEANUP_CRON', '0 0 * ? * 9', 'Quartz day-of-week field "9": day-of-week value 9 is out of range 1–7'],
    ['INVOICE_SYNC_CRON', '0 0 12 * * ? 2030-2027', 'Quartz year field "2030-2027"'],
  ])('refuses %s=%j before anything starts, naming the variable and the field at fault', (variable, value, problem) => {
    expect(validationErrorOf({ [variable]: value }).message).toContain(
      `${variable}=${JSON.stringify(value)}: ${variable} is not a valid cron expression: ${problem}`,
    );
  });

  it('accepts Quartz and @nestjs/schedule expressions alike', () => {
    const env = loadEnv({ DAILY_REPORT_CRON: '0 15 10 ? * 6L 2030', CLEANUP_CRON: '*/10 * * * *' });

    expect(env.cronOverrideOf('daily-report')?.value).toBe('0 15 10 ? * 6L 2030');
    expect(env.cronOverrideOf('cleanup')?.value).toBe('*/10 * * * *');
  });

  it('names a bad cron variable beside the other bad variables', () => {
    const { message } = validationErrorOf({ PORT: 'eighty', INVOICE_SYNC_CRON: 'garbage' });

    expect(message).toContain('PORT="eighty"');
    expect(message).toContain('INVOICE_SYNC_CRON="garbage"');
  });

  it('keeps the overrides out of the variables an Env spreads into', () => {
    expect({ ...loadEnv({ CLEANUP_CRON: '*/10 * * * *' }) }).not.toHaveProperty('CLEANUP_CRON');
  });
});

describe('redactCredentials', () => {
  it.each([
    ['a URL', 'postgres://user:secret@host/db', 'postgres://user:***@host/db'],
    ['another scheme', 'mysql://admin:secret@db/jobs', 'mysql://admin:***@db/jobs'],
    ['an upper-case scheme', 'POSTGRES://user:secret@host/db', 'POSTGRES://user:***@host/db'],
    ['one slash after the scheme', 'postgres:/user:secret@127.0.0.1/db', 'postgres:/user:***@127.0.0.1/db'],
    ['three slashes', 'postgres:///user:secret@host/db', 'postgres:///user:***@host/db'],
    ['no slashes after the scheme', 'postgres:user:secret@host/db', 'postgres:***@host/db'],
    ['no scheme', 'user:secret@host/db', 'user:***@host/db'],
    ['no scheme, with slashes', '//user:secret@host/db', '//user:***@host/db'],
    ['an empty user name', 'postgres://:secret@host/db', 'postgres://:***@host/db'],
    ['an unencoded "@"', 'postgres://user:p@ss@word@host/db', 'postgres://user:***@host/db'],
    ['an unencoded ":"', 'user:sec:ret@host/db', 'user:***@host/db'],
    ['an unencoded "/" and space', 'postgres://user:se/cr et@host:5432/db', 'postgres://user:***@host:5432/db'],
    ['a doubled ":"', 'postgres:://user:secret@host/db', 'postgres:***@host/db'],
    ['an IPv6 host', 'postgresql://user:secret@[::1]:5432/db', 'postgresql://user:***@[::1]:5432/db'],
    ['a URL in a message', 'cannot reach "postgres:/user:secret@host/db"', 'cannot reach "postgres:/user:***@host/db"'],
    ['a variable in a message', 'DATABASE_URL=user:secret@host/db: refused', 'DATABASE_URL=user:***@host/db: refused'],
    [
      'each line of a stack',
      'Error: postgres://u:secret@h\n  at f (postgres://u:secret@h)',
      'Error: postgres://u:***@h\n  at f (postgres://u:***@h)',
    ],
  ])('hides the password of %s', (_shape, value, redacted) => {
    expect(redactCredentials(value)).toBe(redacted);
    expect(redactCredentials(value)).not.toContain('secret');
    expect(redactCredentials(value)).not.toContain('se/cr');
  });

  it.each([
    'sqlite:./data/jobpulse.db',
    'sqlite:/var/lib/jobpulse/db.sqlite',
    'sqlite::memory:',
    'postgres://user@host/db',
    'http://host:8080/path',
    'Error: cannot connect to user@host',
    'at f (file:///app/node_modules/@nestjs/core/injector.js:12:5)',
  ])('leaves %s alone', (value) => {
    expect(redactCredentials(value)).toBe(value);
  });
});

describe('sign-in settings', () => {
  const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
  const jwt = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: 'https://login.test', AUTH_AUDIENCE: 'jobpulse' };

  it('leaves sign-in off outside production when no key is given', () => {
    expect(loadEnv({}).AUTH_MODE).toBe('off');
    expect(loadEnv({ NODE_ENV: 'test' }).AUTH_MODE).toBe('off');
  });

  it('turns sign-in on when a key is given', () => {
    expect(loadEnv(jwt).AUTH_MODE).toBe('jwt');
    expect(
      loadEnv({ ...jwt, AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: 'https://login.test/jwks.json' }).AUTH_MODE,
    ).toBe('jwt');
  });

  it('refuses production without sign-in, naming AUTH_MODE, and with CORS_ORIGINS=*', () => {
    const error = validationErrorOf({ NODE_ENV: 'production', AUTH_MODE: 'off' });

    expect(namedVariables(error)).toEqual(['AUTH_MODE', 'CORS_ORIGINS']);
    expect(error.message).toContain('AUTH_MODE=off is refused when NODE_ENV=production');
    expect(error.message).toContain('CORS_ORIGINS=* is refused when NODE_ENV=production');
  });

  it('refuses production with no settings at all, naming what is missing', () => {
    const error = validationErrorOf({ NODE_ENV: 'production' });

    expect(namedVariables(error)).toEqual(['AUTH_AUDIENCE', 'AUTH_ISSUER', 'AUTH_JWKS_URL', 'CORS_ORIGINS']);
  });

  it('accepts production with sign-in and explicit origins', () => {
    const env = loadEnv({ ...jwt, NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' });

    expect(env.AUTH_MODE).toBe('jwt');
  });

  it('refuses a wildcard among the origins in production', () => {
    const error = validationErrorOf({ ...jwt, NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com, *' });

    expect(namedVariables(error)).toEqual(['CORS_ORIGINS']);
  });

  it('needs an issuer and an audience with AUTH_MODE=jwt', () => {
    const error = validationErrorOf({ AUTH_JWT_SECRET: SECRET });

    expect(namedVariables(error)).toEqual(['AUTH_AUDIENCE', 'AUTH_ISSUER']);
  });

  it('refuses both a key set and a secret', () => {
    const error = validationErrorOf({ ...jwt, AUTH_JWKS_URL: 'https://login.test/jwks.json' });

    expect(namedVariables(error)).toEqual(['AUTH_JWT_SECRET']);
    expect(error.message).toContain('not both');
  });

  it('refuses a short secret without showing it', () => {
    const error = validationErrorOf({ ...jwt, AUTH_JWT_SECRET: 'short-secret-value' });

    expect(namedVariables(error)).toEqual(['AUTH_JWT_SECRET']);
    expect(error.message).toContain('at least 32 characters');
    expect(error.message).not.toContain('short-secret-value');
    expect(error.message).toContain('AUTH_JWT_SECRET=***');
  });

  it('keeps the secret out of a message about it', () => {
    const error = validationErrorOf({ ...jwt, AUTH_JWKS_URL: 'https://login.test/jwks.json' });

    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a METRICS_TOKEN that is too short, without showing it', () => {
    const error = validationErrorOf({ METRICS_TOKEN: 'tiny-token' });

    expect(namedVariables(error)).toEqual(['METRICS_TOKEN']);
    expect(error.message).not.toContain('tiny-token');
  });

  it.each([
    ['NODE_ENV', 'staging'],
    ['AUTH_MODE', 'maybe'],
    ['AUTH_JWKS_URL', 'login.test/jwks'],
    ['AUTH_ROLES_CLAIM', 'realm access'],
    ['AUTH_CLOCK_TOLERANCE', '1h'],
  ])('rejects %s=%s', (name, value) => {
    const withIssuerAndAudience = { AUTH_ISSUER: 'https://login.test', AUTH_AUDIENCE: 'jobpulse' };

    expect(namedVariables(validationErrorOf({ ...withIssuerAndAudience, [name]: value }))).toEqual([name]);
  });
});
