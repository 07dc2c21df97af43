import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Env } from '../config/env.js';
import type { Principal } from './access.decorator.js';
import { InvalidTokenError, TokenVerifier } from './token-verifier.js';

/** With AUTH_MODE=off, whoever reaches the port. */
export const ANONYMOUS: Principal = Object.freeze({
  sub: 'anonymous',
  roles: new Set(['viewer', 'operator'] as const),
});

/** No token was sent where one is needed. */
export class MissingTokenError extends InvalidTokenError {}

/**
 * Who sent a token, for REST and socket.io alike: its verified principal with
 * AUTH_MODE=jwt, anyone with AUTH_MODE=off.
 */
@Injectable()
export class Authenticator implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly verifier?: TokenVerifier;

  constructor(@Inject(Env) private readonly env: Env) {
    if (env.AUTH_MODE === 'jwt') this.verifier = new TokenVerifier(env);
  }

  onModuleInit(): void {
    if (this.env.AUTH_MODE === 'off')
      this.logger.warn({
        msg: 'AUTH_MODE=off: anyone who can reach this port may trigger, pause and retry jobs; for local development only',
      });
    else
      this.logger.log({
        msg: 'sign-in required',
        keys: this.env.AUTH_JWKS_URL ? 'AUTH_JWKS_URL' : 'AUTH_JWT_SECRET',
        issuer: this.env.AUTH_ISSUER,
        audience: this.env.AUTH_AUDIENCE,
      });
  }

  /** Throws InvalidTokenError (the client's to fix) or KeySetUnavailableError (the provider's). */
  authenticate(token: string | undefined): Promise<Principal> {
    if (!this.verifier) return Promise.resolve(ANONYMOUS);
    if (!token) return Promise.reject(new MissingTokenError('no token was sent'));
    return this.verifier.verify(token);
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}
