import { exportSPKI } from 'jose';
import { createHmac, createPublicKey } from 'node:crypto';
import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';
import { routesOf, type Route } from './support/routes.js';
import {
  HS256_ENV,
  hs256Token,
  rsaKey,
  startJwksServer,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type JwksServer,
} from './support/tokens.js';

/** Reviewed by hand: what anyone may call. */
const isPublic = ({ path }: Route) =>
  ['/health', '/health/live', '/health/ready', '/metrics', '/api/asyncapi.json'].includes(path) ||
  path.startsWith('/api/docs');

/** Reviewed by hand: what needs the operator role; every other route needs the viewer role. */
const OPERATOR_ROUTES = [
  'POST /api/jobs/:name/trigger',
  'POST /api/jobs/:name/pause',
  'POST /api/jobs/:name/resume',
  'POST /api/runs/:id/retry',
];
const isOperatorRoute = ({ method, path }: Route) => OPERATOR_ROUTES.includes(`${method} ${path}`);

const urlOf = ({ path }: Route) =>
  path.replace(':name', 'daily-report').replace(':id', '00000000-0000-4000-8000-000000000000');

function call(server: TestApp, route: Route, token?: string) {
  const agent = request(server.url);
  const pending = route.method === 'POST' ? agent.post(urlOf(route)) : agent.get(urlOf(route));
  return token ? pending.set('Authorization', `Bearer ${token}`) : pending;
}

describe('sign-in and roles on every route', () => {
  let server: TestApp;
  let routes: Route[];

  beforeAll(async () => {
    server = await startApp({ env: { ...HS256_ENV } });
    routes = routesOf(server.app);
  });

  afterAll(() => server.close());

  it('serves the routes this spec was reviewed against', () => {
    const described = routes.map((route) => `${route.method} ${route.path}`);

    expect(described).toEqual(expect.arrayContaining(OPERATOR_ROUTES));
    expect(routes.filter((route) => !isPublic(route)).length).toBeGreaterThan(OPERATOR_ROUTES.length);
  });

  it('answers 401 with WWW-Authenticate on every route but the public ones, without a token', async () => {
    for (const route of routes.filter((route) => !isPublic(route))) {
      const response = await call(server, route);

      expect({ route, status: response.status }).toEqual({ route, status: 401 });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="jobpulse"');
      expect(response.body.message).toBe('sign in: send Authorization: Bearer <token>');
    }
  });

  it('serves the public routes without a token', async () => {
    for (const route of routes.filter(isPublic)) {
      const response = await call(server, route);

      expect({ route, status: response.status }).not.toEqual({ route, status: 401 });
      expect({ route, status: response.status }).not.toEqual({ route, status: 403 });
    }
  });

  it('lets a viewer read, and answers 403 naming the operator role on the rest', async () => {
    const viewer = await hs256Token({ roles: ['viewer'] });
    for (const route of routes.filter((route) => !isPublic(route))) {
      const response = await call(server, route, viewer);

      if (isOperatorRoute(route)) {
        expect({ route, status: response.status }).toEqual({ route, status: 403 });
        expect(response.body.message).toBe('this needs the operator role, which the token does not grant');
      } else expect({ route, status: response.status }).not.toEqual({ route, status: 403 });
      expect(response.status).not.toBe(401);
    }
  });

  it('lets an operator call every route', async () => {
    const operator = await hs256Token({ roles: ['operator'] });
    for (const route of routes) {
      const response = await call(server, route, operator);

      expect({ route, status: response.status }).not.toEqual({ route, status: 401 });
      expect({ route, status: response.status }).not.toEqual({ route, status: 403 });
    }
  });

  it('answers 403 naming the viewer role to a token without roles', async () => {
    const response = await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await hs256Token({ roles: [] })}`)
      .expect(403);

    expect(response.body.message).toBe('this needs the viewer role, which the token does not grant');
  });

  it.each([
    ['an expired token', { expiresIn: -60 }, 'the token has expired'],
    ['another issuer', { issuer: 'https://evil.test' }, 'the token has the wrong issuer'],
    ['another audience', { audience: 'another-app' }, 'the token has the wrong audience'],
  ])('answers 401 naming what is wrong with %s', async (_case, options, reason) => {
    const response = await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await hs256Token({ roles: ['operator'], ...options })}`)
      .expect(401);

    expect(response.body.message).toBe(reason);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="jobpulse", error="invalid_token", error_description="${reason}"`,
    );
  });

  it('refuses an unsigned token (alg: none) and a tampered one', async () => {
    const [header, payload, signature] = (await hs256Token({ roles: ['viewer'] })).split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const elevated = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['operator'] }),
    ).toString('base64url');

    for (const token of [`${none}.${payload}.`, `${header}.${elevated}.${signature}`]) {
      const response = await request(server.url)
        .post('/api/jobs/daily-report/pause')
        .set('Authorization', `Bearer ${token}`)
        .expect(401);
      expect(response.body.message).toMatch(
        /^the token (is signed with an algorithm that is not accepted|signature is invalid)$/,
      );
    }
  });

  it('refuses a header that is not a bearer token', async () => {
    await request(server.url).get('/api/jobs').set('Authorization', 'Basic dXNlcjpwdw==').expect(401);
  });
});

describe('sign-in with a key set from AUTH_JWKS_URL', () => {
  let jwks: JwksServer;
  let server: TestApp | undefined;

  const jwksEnv = (url: string) => ({
    AUTH_JWKS_URL: url,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    AUTH_JWKS_COOLDOWN: '0',
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await jwks?.close();
  });

  it('accepts RS256 tokens, and one signed with a rotated key once the key set has it', async () => {
    const first = await rsaKey('key-1');
    const second = await rsaKey('key-2');
    jwks = await startJwksServer([first]);
    server = await startApp({ env: jwksEnv(jwks.url) });

    await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await first.sign({ roles: ['viewer'] })}`)
      .expect(200);
    const unknown = await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await second.sign({ roles: ['viewer'] })}`)
      .expect(401);
    expect(unknown.body.message).toBe('the token is signed with an unknown key');

    jwks.keys = [first, second];
    await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await second.sign({ roles: ['viewer'] })}`)
      .expect(200);
    // Cached: a known key needs no fetch.
    const fetches = jwks.requests;
    await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await first.sign({ roles: ['viewer'] })}`)
      .expect(200);
    expect(jwks.requests).toBe(fetches);
  });

  it('refuses an HS256 token whose secret is the public key (algorithm confusion)', async () => {
    const key = await rsaKey('key-1');
    jwks = await startJwksServer([key]);
    server = await startApp({ env: jwksEnv(jwks.url) });
    const pem = await exportSPKI(createPublicKey({ key: key.publicJwk, format: 'jwk' }));
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'key-1' })).toString('base64url');
    const [, payload] = (await key.sign({ roles: ['operator'] })).split('.');
    const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');

    const response = await request(server.url)
      .post('/api/jobs/daily-report/pause')
      .set('Authorization', `Bearer ${header}.${payload}.${signature}`)
      .expect(401);

    expect(response.body.message).toBe('the token is signed with an algorithm that is not accepted');
  });

  it('answers 503 while the key set cannot be fetched, without blaming the token', async () => {
    const key = await rsaKey('key-1');
    jwks = await startJwksServer([key]);
    const url = jwks.url;
    await jwks.close();
    server = await startApp({ env: jwksEnv(url) });

    const response = await request(server.url)
      .get('/api/jobs')
      .set('Authorization', `Bearer ${await key.sign({ roles: ['viewer'] })}`)
      .expect(503);

    expect(response.body.message).toBe("the identity provider's key set cannot be fetched");
  });
});

describe('cross-site requests', () => {
  let server: TestApp | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    ['with sign-in', { ...HS256_ENV }],
    ['without sign-in', { AUTH_MODE: 'off' }],
  ])('refuses a write from an origin CORS_ORIGINS does not list, %s', async (_case, env) => {
    server = await startApp({ env: { ...env, CORS_ORIGINS: 'https://app.example.com' } });
    const operator = `Bearer ${await hs256Token({ roles: ['operator'] })}`;

    const refused = await request(server.url)
      .post('/api/jobs/daily-report/pause')
      .set('Authorization', operator)
      .set('Origin', 'https://evil.example.net')
      .expect(403);
    expect(refused.body.message).toBe('requests from origin https://evil.example.net are not allowed (CORS_ORIGINS)');
    const job = await request(server.url).get('/api/jobs/daily-report').set('Authorization', operator).expect(200);
    expect(job.body.paused).toBe(false);

    await request(server.url)
      .post('/api/jobs/daily-report/pause')
      .set('Authorization', operator)
      .set('Origin', 'https://app.example.com')
      .expect(200);
  });
});
