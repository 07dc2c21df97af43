import type { ServerResponse } from 'node:http';
import { requestLevel, requestLine, withoutSecretParameters, type LoggedRequest } from './request-log.js';

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
