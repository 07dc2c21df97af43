import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { Env } from '../config/env.js';
import { bearerTokenOf, MetricsTokenGuard, sameSecret } from './metrics-token.guard.js';

const TOKEN = 'a-metrics-token-of-some-length';

/** The guard's view of a request with this Authorization header, and the headers set on its response. */
function contextWith(authorization?: string) {
  const headers = new Map<string, string>();
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
      getResponse: () => ({ setHeader: (name: string, value: string) => headers.set(name, value) }),
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

function guardWith(token?: string): MetricsTokenGuard {
  return new MetricsTokenGuard(Object.assign(new Env(), { METRICS_TOKEN: token }));
}

describe('bearerTokenOf', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER  abc ', 'abc'],
  ])('reads the token of %j', (header, token) => {
    expect(bearerTokenOf(header)).toBe(token);
  });

  it.each([undefined, '', 'abc', 'Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearerabc'])(
    'finds none in %j',
    (header) => {
      expect(bearerTokenOf(header)).toBeUndefined();
    },
  );
});

describe('sameSecret', () => {
  it('holds for the same text only, whatever the lengths', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameSecret(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });
});

describe('MetricsTokenGuard', () => {
  it('lets every request through while METRICS_TOKEN is unset', () => {
    expect(guardWith(undefined).canActivate(contextWith().context)).toBe(true);
  });

  it('lets a request with the token through', () => {
    const { context, headers } = contextWith(`Bearer ${TOKEN}`);
    expect(guardWith(TOKEN).canActivate(context)).toBe(true);
    expect(headers.size).toBe(0);
  });

  it('refuses a request without a bearer token with 401 and a Bearer challenge', () => {
    const { context, headers } = contextWith();
    expect(() => guardWith(TOKEN).canActivate(context)).toThrow(UnauthorizedException);
    expect(headers.get('WWW-Authenticate')).toBe('Bearer realm="metrics"');
  });

  it('refuses another token with 401 and invalid_token, without showing the token', () => {
    const { context, headers } = contextWith(`Bearer ${TOKEN}-not`);
    let thrown: unknown;
    try {
      guardWith(TOKEN).canActivate(context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnauthorizedException);
    expect(JSON.stringify((thrown as UnauthorizedException).getResponse())).not.toContain(TOKEN);
    expect(headers.get('WWW-Authenticate')).toBe('Bearer realm="metrics", error="invalid_token"');
  });
});
