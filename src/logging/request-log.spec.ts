import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import {
  requestLevel,
  requestLine,
  requestLogMiddleware,
  withoutSecretParameters,
  type LoggedRequest,
} from './request-log.js';

/** A request as it is when its response is finished: `route` is the last Express matched. */
function request(url: string, fields: Partial<LoggedRequest> = {}): LoggedRequest {
  return { method: 'GET', url, originalUrl: url, baseUrl: '', ...fields } as LoggedRequest;
}

const response = (statusCode: number) => ({ statusCode }) as ServerResponse;

/** What Express sets for a controller's route (one method) and for middleware Nest mounts with all(). */
const controllerRoute = (path: string) => ({ path, methods: { post: true } });
const middlewareRoute = { path: '{/*splat}', methods: { get: true, post: true, delete: true } };

describe('requestLine', () => {
  it("names the method, the route's template, the status, the duration and the user's sub", () => {
    const req = request('/api/jobs/cleanup/trigger', {
      method: 'POST',
      route: controllerRoute('/api/jobs/:name/trigger'),
      user: { sub: 'ops-user' },
    });

    expect(requestLine(req, response(202), 12)).toEqual({
      context: 'HTTP',
      method: 'POST',
      route: '/api/jobs/:name/trigger',
      url: '/api/jobs/cleanup/trigger',
      status: 202,
      durationMs: 12,
      user: 'ops-user',
    });
  });

  it('has no route when none matched, only the middleware mounted on every path', () => {
    const line = requestLine(request('/nope', { route: middlewareRoute }), response(404), 1);

    expect(line.route).toBeUndefined();
    expect(line.url).toBe('/nope');
  });

  it('has no user where the guard signed no one in (public routes)', () => {
    expect(requestLine(request('/health/live'), response(200), 1).user).toBeUndefined();
  });
});

describe('withoutSecretParameters', () => {
  it.each([
    ['/api/events?token=abc', '/api/events?token=[Redacted]'],
    ['/api/events?after=3&access_token=abc&limit=5', '/api/events?after=3&access_token=[Redacted]&limit=5'],
    ['/x?Client_Secret=s&password=p&id_token=t', '/x?Client_Secret=[Redacted]&password=[Redacted]&id_token=[Redacted]'],
    ['/x?%74oken=abc', '/x?%74oken=[Redacted]'],
    ['/x?token', '/x?token=[Redacted]'],
    ['/x?%E0%A4%A=1&token=abc', '/x?%E0%A4%A=1&token=[Redacted]'],
    ['/api/jobs?limit=5', '/api/jobs?limit=5'],
    ['/api/jobs', '/api/jobs'],
  ])('%s is written %s', (url, written) => {
    expect(withoutSecretParameters(url)).toBe(written);
  });
});

describe('requestLevel', () => {
  it.each([
    ['/api/jobs', 200, 'info'],
    ['/api/jobs/x', 404, 'warn'],
    ['/api/jobs/x/trigger', 401, 'warn'],
    ['/api/jobs/x/trigger', 503, 'error'],
    ['/health', 200, 'debug'],
    ['/health/live', 200, 'debug'],
    ['/health/ready', 503, 'debug'],
    ['/health/ready?full=1', 200, 'debug'],
    ['/metrics', 401, 'debug'],
    ['/healthz', 404, 'warn'],
    ['/api/metrics', 200, 'info'],
  ])('%s answered %i is written at %s', (url, status, level) => {
    expect(requestLevel(request(url), response(status))).toBe(level);
  });

  it('writes a request whose response failed as an error', () => {
    expect(requestLevel(request('/api/jobs'), response(200), new Error('socket hang up'))).toBe('error');
  });
});

describe('requestLogMiddleware', () => {
  /** The middleware on a logger at `debug`, and the lines it wrote, parsed. */
  function middleware() {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { handle: requestLogMiddleware(logger), lines };
  }

  /** A request served by `handle`, its response an emitter that the test finishes. */
  function serve(handle: ReturnType<typeof requestLogMiddleware>, url = '/api/jobs') {
    const req = request(url, { route: controllerRoute('/api/jobs') });
    const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as ServerResponse;
    const next = jest.fn();
    handle(req, res, next);
    return { req, res, next };
  }

  it("numbers each request and gives it a logger that writes its reqId, before the next handler's turn", () => {
    const { handle, lines } = middleware();

    const first = serve(handle);
    const second = serve(handle);
    second.req.log.info({ context: 'Test' }, 'while serving');

    expect([first.req.id, second.req.id]).toEqual([1, 2]);
    expect(first.next).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([expect.objectContaining({ reqId: 2, context: 'Test', msg: 'while serving' })]);
  });

  it('writes the request line once the response is finished, and not again when the connection closes', () => {
    const { handle, lines } = middleware();
    const { res } = serve(handle);

    res.emit('finish');
    res.emit('close');

    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        reqId: 1,
        context: 'HTTP',
        method: 'GET',
        route: '/api/jobs',
        url: '/api/jobs',
        status: 200,
        durationMs: expect.any(Number),
        msg: 'request completed',
      }),
    ]);
  });

  it('writes a 5xx, or a response that failed, as a failed request at error', () => {
    const { handle, lines } = middleware();
    const answered503 = serve(handle).res;
    answered503.statusCode = 503;
    const broken = serve(handle).res;

    answered503.emit('finish');
    broken.emit('error', new Error('socket hang up'));

    expect(lines.map(({ level, status, msg }) => [level, status, msg])).toEqual([
      [50, 503, 'request failed'],
      [50, 200, 'request failed'],
    ]);
  });

  it('writes a request whose connection closed before its response was sent', () => {
    const { handle, lines } = middleware();

    serve(handle, '/health/ready').res.emit('close');

    expect(lines).toEqual([expect.objectContaining({ level: 20, url: '/health/ready', msg: 'request completed' })]);
  });
});
