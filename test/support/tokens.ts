import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export const TEST_ISSUER = 'https://login.jobpulse.test';
export const TEST_AUDIENCE = 'jobpulse';
export const TEST_SECRET = 'jobpulse-test-secret-0123456789-abcdefghij';

/** The environment of an app that signs users in with HS256 tokens from {@link hs256Token}; no clock tolerance. */
export const HS256_ENV = {
  AUTH_JWT_SECRET: TEST_SECRET,
  AUTH_ISSUER: TEST_ISSUER,
  AUTH_AUDIENCE: TEST_AUDIENCE,
  AUTH_CLOCK_TOLERANCE: '0',
} as const;

export interface TokenOptions {
  sub?: string;
  /** Put under the `roles` claim unless `claims` says otherwise. */
  roles?: string[];
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** Extra or replacing claims. */
  claims?: JWTPayload;
}

function signerOf(options: TokenOptions): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: options.roles ?? [], ...options.claims })
    .setSubject(options.sub ?? 'user-1')
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300));
}

/** A token signed with {@link TEST_SECRET}. */
export function hs256Token(options: TokenOptions = {}): Promise<string> {
  return signerOf(options).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(TEST_SECRET));
}

/** An RSA key pair whose public half a {@link JwksServer} serves under `kid`. */
export interface SigningKey {
  kid: string;
  sign(options?: TokenOptions): Promise<string>;
  publicJwk: JWK;
}

export async function rsaKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    publicJwk,
    sign: (options = {}) => signerOf(options).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey),
  };
}

/** An identity provider's key set on loopback: `keys` can be replaced to rotate; `requests` counts fetches. */
export interface JwksServer {
  url: string;
  keys: SigningKey[];
  requests: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const jwks: JwksServer = { url: '', keys, requests: 0, close: () => Promise.resolve() };
  const server: Server = createServer((_request, response) => {
    jwks.requests += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: jwks.keys.map((key) => key.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwks.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  jwks.close = () => new Promise((resolve) => server.close(() => resolve()));
  return jwks;
}
