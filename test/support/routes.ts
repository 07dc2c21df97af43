import type { INestApplication } from '@nestjs/common';

export interface Route {
  method: string;
  /** Express's pattern, such as `/api/jobs/:name/trigger`. */
  path: string;
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * Every route the application's HTTP router serves, as Express holds them. Wildcard
 * paths (`{/*splat}`) are where Nest mounts middleware for every route; no
 * controller declares one.
 */
export function routesOf(app: INestApplication): Route[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  return express.router.stack.flatMap(({ route }) =>
    route && !route.path.includes('*')
      ? Object.keys(route.methods)
          .filter((method) => method !== '_all')
          .map((method) => ({ method: method.toUpperCase(), path: route.path }))
      : [],
  );
}
