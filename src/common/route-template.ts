/** What Express sets on a request once a route handles it. */
export interface RoutedRequest {
  baseUrl?: string;
  route?: { path: string; methods?: Record<string, boolean> };
}

/**
 * The template of the controller route that answered the request
 * (`/api/jobs/:name/trigger`, never the URL, so logs and metric labels stay
 * bounded), or `undefined` when none did. Express also sets `route` for the
 * middleware Nest mounts on every path (`{/*splat}`), as one route answering
 * every method; a controller route answers one.
 */
export function controllerRouteOf(request: RoutedRequest): string | undefined {
  const { route } = request;
  if (!route || Object.keys(route.methods ?? {}).length !== 1) return undefined;
  return `${request.baseUrl ?? ''}${route.path}`;
}
