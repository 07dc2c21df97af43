import { pino } from 'pino';
import type { LogLevelName } from '../config/env.js';
import { loggerOptions, withoutSecrets } from './log-format.js';

/** A logger with the application's options, and the lines it wrote, parsed. */
function loggerAt(level: LogLevelName) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(loggerOptions(level), { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('loggerOptions', () => {
  it.each<[LogLevelName, string[]]>([
    ['fatal', ['fatal']],
    ['error', ['fatal', 'error']],
    ['warn', ['fatal', 'error', 'warn']],
    ['log', ['fatal', 'error', 'warn', 'info']],
    ['debug', ['fatal', 'error', 'warn', 'info', 'debug']],
    ['verbose', ['fatal', 'error', 'warn', 'info', 'debug', 'trace']],
  ])('LOG_LEVEL=%s writes %j', (level, written) => {
    const { logger, lines } = loggerAt(level);
    for (const method of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) logger[method]('x');

    expect(lines.map((line) => line.level)).toEqual(written);
  });

  it('writes the level by name, the time as an ISO instant, the pid and the host name', () => {
    const { logger, lines } = loggerAt('log');
    logger.info({ context: 'RunLedger', job: 'cleanup' }, 'run succeeded');

    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        pid: process.pid,
        hostname: expect.any(String),
        context: 'RunLedger',
        job: 'cleanup',
        msg: 'run succeeded',
      },
    ]);
  });

  it('never writes a token, password, secret, authorization header or cookie, however deep', () => {
    const { logger, lines } = loggerAt('log');
    logger.info({
      token: 't0',
      password: 'p0',
      secret: 's0',
      job: 'kept',
      config: { accessToken: 't1', client_secret: 's1', port: 3000 },
      req: { headers: { authorization: 'Bearer t2', cookie: 'sid=c2', host: 'kept' } },
      outer: { res: { headers: { 'set-cookie': ['sid=c3'] } } },
    });
    logger.child({ refresh_token: 't4' }).info('a child');

    expect(lines[0]).toMatchObject({
      token: '[Redacted]',
      password: '[Redacted]',
      secret: '[Redacted]',
      job: 'kept',
      config: { accessToken: '[Redacted]', client_secret: '[Redacted]', port: 3000 },
      req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]', host: 'kept' } },
      outer: { res: { headers: { 'set-cookie': '[Redacted]' } } },
    });
    expect(lines[1]).toMatchObject({ refresh_token: '[Redacted]', msg: 'a child' });
    expect(JSON.stringify(lines)).not.toMatch(/t[0-4]"|p0|s[01]"|c[23]/);
  });
});

describe('withoutSecrets', () => {
  it('returns the very value when it holds no secret, copying nothing', () => {
    const fields = { job: 'cleanup', nested: { list: [{ port: 1 }] } };

    expect(withoutSecrets(fields)).toBe(fields);
  });

  it('hides secrets inside arrays and leaves the original untouched', () => {
    const fields = { tokens: [{ token: 't0' }, { id: 1 }] };

    expect(withoutSecrets(fields)).toEqual({ tokens: [{ token: '[Redacted]' }, { id: 1 }] });
    expect(fields.tokens[0]).toEqual({ token: 't0' });
  });

  it('leaves instances of classes to their serializers, and stops below three levels', () => {
    class Request {
      token = 't0';
    }
    const request = new Request();
    const deep = { a: { b: { c: { d: { token: 't1' } } } } };

    expect(withoutSecrets({ request }).request).toBe(request);
    expect(withoutSecrets(deep)).toBe(deep);
  });
});
