import type { NextFunction, Request, Response } from 'express';
import { Histogram, type Registry } from 'prom-client';

/** The route label of requests no route matched (404s of unknown paths): one value, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * How long HTTP requests took, by method, route template and status. Labels
 * come from the route template (`/api/jobs/:name/trigger`), never the URL, so
 * the number of series stays bounded whatever clients send. Requests refused
 * by guards are counted too: they reach their route before its guards run.
 */
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  /** Requests that went past every route. */
  private readonly unmatched = new WeakSet<Request>();

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'jobpulse_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status: how long they took to answer.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Express middleware: times the request and records it once the response is sent. */
  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = this.unmatched.has(request) ? UNMATCHED_ROUTE : routeOf(request);
      this.duration.observe({ method: request.method, route, status: String(response.statusCode) }, seconds);
    });
    next();
  };

  /**
   * Express middleware for after the last route: only requests no route
   * answered reach it. Their `request.route` may still be set, by a
   * middleware mounted as a catch-all route (nestjs-pino's `{/*splat}`).
   */
  readonly markUnmatched = (request: Request, _response: Response, next: NextFunction): void => {
    this.unmatched.add(request);
    next();
  };
}

/** The template of the route Express matched (set once a route handles the request), or UNMATCHED_ROUTE. */
export function routeOf(request: Pick<Request, 'baseUrl' | 'route'>): string {
  const path: unknown = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : UNMATCHED_ROUTE;
}
