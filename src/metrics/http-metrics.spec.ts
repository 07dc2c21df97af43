import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { HttpMetrics, UNMATCHED_ROUTE } from './http-metrics.js';
import { sampleValue } from './testing.js';

/** A request and response as Express hands them to a middleware; `route` is set once a route matches. */
function exchange(method: string, url: string) {
  const request = { method, url, baseUrl: '', route: undefined } as unknown as Request;
  const response = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as Response;
  return { request, response };
}

describe('HttpMetrics', () => {
  let registry: Registry;
  let metrics: HttpMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new HttpMetrics(registry);
  });

  it('records a request once its response is sent, by method, route template and status', async () => {
    const { request, response } = exchange('POST', '/api/jobs/sync/trigger');
    let nextCalls = 0;
    metrics.middleware(request, response, () => nextCalls++);
    expect(nextCalls).toBe(1);
    await expect(registry.getMetricsAsJSON()).resolves.toEqual([expect.objectContaining({ values: [] })]);

    // The route matches after the middleware ran; a guard then refuses the request.
    request.route = { path: '/api/jobs/:name/trigger', methods: { post: true } };
    response.statusCode = 403;
    response.emit('finish');

    const labels = { method: 'POST', route: '/api/jobs/:name/trigger', status: '403' };
    await expect(sampleValue(registry, 'jobpulse_http_request_duration_seconds_count', labels)).resolves.toBe(1);
  });

  it('labels requests no route matched as unmatched, whatever their path', async () => {
    for (const url of ['/a', '/b/c', '/wp-login.php']) {
      const { request, response } = exchange('GET', url);
      metrics.middleware(request, response, () => undefined);
      response.statusCode = 404;
      response.emit('finish');
    }

    const labels = { method: 'GET', route: UNMATCHED_ROUTE, status: '404' };
    await expect(sampleValue(registry, 'jobpulse_http_request_duration_seconds_count', labels)).resolves.toBe(3);
    const [histogram] = await registry.getMetricsAsJSON();
    expect(new Set(histogram.values.map((sample) => sample.labels.route))).toEqual(new Set([UNMATCHED_ROUTE]));
  });

  it('labels a request that went past every route as unmatched, though a catch-all middleware route set its route', async () => {
    const { request, response } = exchange('DELETE', '/api/jobs/sync');
    metrics.middleware(request, response, () => undefined);
    request.route = { path: '{/*splat}', methods: { get: true, post: true, delete: true } };
    response.statusCode = 404;
    response.emit('finish');

    const labels = { method: 'DELETE', route: UNMATCHED_ROUTE, status: '404' };
    await expect(sampleValue(registry, 'jobpulse_http_request_duration_seconds_count', labels)).resolves.toBe(1);
  });
});
