import type { NextFunction, Request, Response } from 'express';
import { Histogram, type Registry } from 'prom-client';
import { controllerRouteOf } from '../common/route-template.js';

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
      const route = controllerRouteOf(request) ?? UNMATCHED_ROUTE;
      this.duration.observe({ method: request.method, route, status: String(response.statusCode) }, seconds);
    });
    next();
  };
}
