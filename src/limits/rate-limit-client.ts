import type { Principal } from '../auth/access.decorator.js';
import { ANONYMOUS } from '../auth/authenticator.js';

/**
 * Whose budget a request counts against: the signed-in user's, whatever address
 * they call from; without sign-in (`AUTH_MODE=off`, where everyone is `anonymous`),
 * the client address's, which Express reads from `X-Forwarded-For` behind
 * `TRUST_PROXY` proxies. The prefixes keep a user named like an address apart from it.
 */
export function rateLimitClientOf({ user, ip }: { user?: Principal; ip?: string }): string {
  if (user !== undefined && user.sub !== ANONYMOUS.sub) return `user:${user.sub}`;
  // Express has no address once the socket is gone: such requests share one budget.
  return `address:${ip ?? 'unknown'}`;
}
