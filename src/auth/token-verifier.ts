import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Env } from '../config/env.js';
import type { Principal } from './access.decorator.js';
import { rolesIn } from './roles-claim.js';

/** How long a fetched key set is trusted before it is fetched again. */
const KEY_SET_MAX_AGE_MS = 10 * 60 * 1000;
const KEY_SET_TIMEOUT_MS = 5000;

/** Never HS*: a key set's public key must not be usable as an HMAC secret (algorithm confusion). */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** A token was refused; `reason` is safe to show the client (it names no key and echoes no token). */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The identity provider's key set could not be fetched: not the client's fault. */
export class KeySetUnavailableError extends Error {}

export type TokenSettings = Pick<
  Env,
  | 'AUTH_JWKS_URL'
  | 'AUTH_JWKS_COOLDOWN'
  | 'AUTH_JWT_SECRET'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_ROLES_CLAIM'
  | 'AUTH_VIEWER_ROLE'
  | 'AUTH_OPERATOR_ROLE'
  | 'AUTH_CLOCK_TOLERANCE'
>;

/**
 * Checks a bearer token (signature, algorithm, `exp`, `nbf`, issuer,
 * audience, `sub`) and reads who it is and which roles it grants.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly settings: TokenSettings) {
    if (settings.AUTH_JWT_SECRET) {
      this.key = new TextEncoder().encode(settings.AUTH_JWT_SECRET);
      this.algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(settings.AUTH_JWKS_URL!), {
        cacheMaxAge: KEY_SET_MAX_AGE_MS,
        cooldownDuration: settings.AUTH_JWKS_COOLDOWN,
        timeoutDuration: KEY_SET_TIMEOUT_MS,
      });
      this.algorithms = ASYMMETRIC_ALGORITHMS;
    }
  }

  async verify(token: string): Promise<Principal> {
    const payload = await this.claimsOf(token);
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidTokenError('the token has no subject');
    return {
      sub: payload.sub,
      roles: rolesIn(payload, this.settings.AUTH_ROLES_CLAIM, {
        viewer: this.settings.AUTH_VIEWER_ROLE,
        operator: this.settings.AUTH_OPERATOR_ROLE,
      }),
      expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
    };
  }

  private async claimsOf(token: string): Promise<JWTPayload> {
    try {
      // jwtVerify's overloads differ only in the key's type.
      const { payload } = await jwtVerify(token, this.key as JWTVerifyGetKey, {
        issuer: this.settings.AUTH_ISSUER,
        audience: this.settings.AUTH_AUDIENCE,
        algorithms: this.algorithms,
        clockTolerance: this.settings.AUTH_CLOCK_TOLERANCE / 1000,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      throw this.refusalOf(error);
    }
  }

  private refusalOf(error: unknown): Error {
    if (error instanceof errors.JWTExpired) return new InvalidTokenError('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) return claimRefusalOf(error);
    if (error instanceof errors.JOSEAlgNotAllowed)
      return new InvalidTokenError('the token is signed with an algorithm that is not accepted');
    if (error instanceof errors.JWKSNoMatchingKey)
      return new InvalidTokenError('the token is signed with an unknown key');
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return new InvalidTokenError('the token signature is invalid');
    // Fetching the key set fails with fetch's own errors, a timeout, or a generic error for a bad response.
    const keySetFailed =
      error instanceof errors.JWKSTimeout ||
      error instanceof errors.JWKSInvalid ||
      !(error instanceof errors.JOSEError) ||
      error.code === 'ERR_JOSE_GENERIC';
    if (keySetFailed && this.settings.AUTH_JWKS_URL)
      return new KeySetUnavailableError("the identity provider's key set cannot be fetched");
    return new InvalidTokenError('the token is malformed');
  }
}

function claimRefusalOf(error: errors.JWTClaimValidationFailed): InvalidTokenError {
  if (error.claim === 'nbf') return new InvalidTokenError('the token is not valid yet');
  const claim = error.claim === 'iss' ? 'issuer' : error.claim === 'aud' ? 'audience' : `"${error.claim}" claim`;
  return new InvalidTokenError(
    error.reason === 'missing' ? `the token has no ${claim}` : `the token has the wrong ${claim}`,
  );
}
