import type { Env } from '../config/env.js';

/**
 * Whether a browser request may come from the page that sent it: CORS only
 * hides responses from other origins, while a cross-site form POST or a
 * WebSocket is still carried out, so requests that change state and socket
 * handshakes are refused here unless their `Origin` is listed in CORS_ORIGINS
 * or is the service's own. Requests without an `Origin` (curl, servers,
 * same-origin GETs) are not a browser acting for another site.
 */
export class OriginPolicy {
  private readonly origins: ReadonlySet<string> | 'any';

  constructor(env: Pick<Env, 'CORS_ORIGINS'>) {
    const listed = env.CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    this.origins = listed.includes('*') ? 'any' : new Set(listed.map(normalised));
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || this.origins === 'any') return true;
    const given = normalised(origin);
    if (this.origins.has(given)) return true;
    try {
      return host !== undefined && new URL(given).host === host.toLowerCase();
    } catch {
      return false;
    }
  }
}

/** Origins compare without a trailing slash and case-insensitively, as browsers send them. */
function normalised(origin: string): string {
  return origin.replace(/\/+$/, '').toLowerCase();
}
