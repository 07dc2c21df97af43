import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiAccess } from '../api-docs/api-responses.js';

/** What a signed-in user may do: `viewer` reads and subscribes; `operator` also triggers, retries, pauses and resumes. */
export type Role = 'viewer' | 'operator';

/** Who may call a route: anyone (`public`: probes, metrics with their own token, API descriptions) or a role. */
export type AccessLevel = Role | 'public';

export const ACCESS_METADATA = 'jobpulse:access';

/**
 * The one place a route says who may call it. The guard refuses a route that
 * has none, so a route added without it is closed rather than open. It also
 * tells the OpenAPI document: the bearer token, the role, and the answers of
 * the guard and the rate limits.
 */
export function Access(level: AccessLevel): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(ACCESS_METADATA, level), ApiAccess(level));
}

/** Who made a request or opened a socket, once their token was verified (or anyone, with `AUTH_MODE=off`). */
export interface Principal {
  /** The token's `sub`; `anonymous` with `AUTH_MODE=off`. */
  sub: string;
  roles: ReadonlySet<Role>;
  /** When the token expires (ms since the epoch); none with `AUTH_MODE=off`. */
  expiresAt?: number;
}
