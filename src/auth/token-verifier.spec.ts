import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { loadEnv } from '../config/env.js';
import { InvalidTokenError, TokenVerifier } from './token-verifier.js';

const SECRET = 'unit-test-secret-0123456789-abcdefghijklmnop';
const ISSUER = 'https://login.unit.test';
const AUDIENCE = 'jobpulse';
const env = loadEnv({
  AUTH_JWT_SECRET: SECRET,
  AUTH_ISSUER: ISSUER,
  AUTH_AUDIENCE: AUDIENCE,
  AUTH_CLOCK_TOLERANCE: '5s',
});
const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}) {
  return { sub: 'ada', iss: ISSUER, aud: AUDIENCE, exp: now() + 60, roles: ['operator'], ...overrides };
}

function hs256(payload: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

async function refusalOf(token: string): Promise<string> {
  const error: unknown = await new TokenVerifier(env).verify(token).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).reason;
}

describe('TokenVerifier with AUTH_JWT_SECRET', () => {
  it('reads the subject, roles and expiry of a valid token', async () => {
    const exp = now() + 60;

    const principal = await new TokenVerifier(env).verify(await hs256(claims({ exp })));

    expect(principal).toEqual({ sub: 'ada', roles: new Set(['operator', 'viewer']), expiresAt: exp * 1000 });
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    await expect(new TokenVerifier(env).verify(await hs256(claims({ exp: now() - 2 })))).resolves.toMatchObject({
      sub: 'ada',
    });
  });

  it.each([
    ['an expired token', claims({ exp: now() - 60 }), 'the token has expired'],
    ['a token not valid yet', claims({ nbf: now() + 60 }), 'the token is not valid yet'],
    ['another issuer', claims({ iss: 'https://evil.test' }), 'the token has the wrong issuer'],
    ['another audience', claims({ aud: 'someone-else' }), 'the token has the wrong audience'],
    ['no expiry', claims({ exp: undefined }), 'the token has no "exp" claim'],
    ['no subject', claims({ sub: undefined }), 'the token has no subject'],
  ])('refuses %s', async (_case, payload, reason) => {
    expect(await refusalOf(await hs256(payload))).toBe(reason);
  });

  it('refuses a token signed with another secret', async () => {
    expect(await refusalOf(await hs256(claims(), 'another-secret-0123456789-abcdefghijklmnop'))).toBe(
      'the token signature is invalid',
    );
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const token = new UnsecuredJWT(claims()).encode();

    expect(await refusalOf(token)).toBe('the token is signed with an algorithm that is not accepted');
  });

  it('refuses a token signed with another algorithm', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);

    expect(await refusalOf(token)).toBe('the token is signed with an algorithm that is not accepted');
  });

  it.each(['', 'not-a-token', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30'])('refuses the malformed token %j', async (token) => {
    expect(await refusalOf(token)).toBe('the token is malformed');
  });

  it('never puts the token in its reason', async () => {
    const token = await hs256(claims({ exp: now() - 60 }));

    expect(await refusalOf(token)).not.toContain(token.split('.')[1]);
  });
});
