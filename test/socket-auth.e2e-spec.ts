import { UnsecuredJWT } from 'jose';
import request from 'supertest';
import type { HandshakeRefusal } from '../src/gateway/socket-admission.js';
import { TOKEN_EXPIRED } from '../src/gateway/socket-admission.js';
import { startApp, type TestApp } from './support/app.js';
import { eventually } from './support/deferred.js';
import { runEvent, TestClient, type ConnectOptions } from './support/socket.js';
import { HS256_ENV, hs256Token, TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';

async function refusalOf(url: string, options: ConnectOptions): Promise<{ message: string; data: HandshakeRefusal }> {
  const error: unknown = await TestClient.connect(url, options).then(
    (client) => {
      client.close();
      return undefined;
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as { message: string; data: HandshakeRefusal };
}

describe('socket.io sign-in', () => {
  let server: TestApp;
  const clients: TestClient[] = [];
  const connect = async (options: ConnectOptions) => {
    const client = await TestClient.connect(server.url, options);
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await server?.close();
  });

  describe('the handshake', () => {
    beforeEach(async () => {
      server = await startApp({ env: { ...HS256_ENV } });
    });

    it('admits a viewer, who can subscribe', async () => {
      const client = await connect({ auth: { token: await hs256Token({ roles: ['viewer'] }) } });

      await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
    });

    it('admits a token sent as an Authorization header, as non-browser clients may', async () => {
      const token = await hs256Token({ roles: ['viewer'] });

      await expect(connect({ extraHeaders: { Authorization: `Bearer ${token}` } })).resolves.toBeInstanceOf(TestClient);
    });

    it.each([
      ['without a token', () => Promise.resolve(undefined), 'no token was sent'],
      ['with an expired token', () => hs256Token({ roles: ['viewer'], expiresIn: -30 }), 'the token has expired'],
      [
        'with alg: none',
        () =>
          Promise.resolve(
            new UnsecuredJWT({ roles: ['viewer'] })
              .setSubject('user-1')
              .setIssuer(TEST_ISSUER)
              .setAudience(TEST_AUDIENCE)
              .setExpirationTime('5m')
              .encode(),
          ),
        'the token is signed with an algorithm that is not accepted',
      ],
      [
        'with another issuer',
        () => hs256Token({ roles: ['viewer'], issuer: 'https://evil.test' }),
        'the token has the wrong issuer',
      ],
      [
        'with another audience',
        () => hs256Token({ roles: ['viewer'], audience: 'other-app' }),
        'the token has the wrong audience',
      ],
    ])('is refused %s, saying why', async (_case, tokenOf, reason) => {
      const refusal = await refusalOf(server.url, { auth: { token: await tokenOf() } });

      expect(refusal.message).toBe(reason);
      expect(refusal.data).toEqual({ code: 'unauthorized', reason });
    });

    it('is refused to a token without the viewer role', async () => {
      const refusal = await refusalOf(server.url, { auth: { token: await hs256Token({ roles: ['auditor'] }) } });

      expect(refusal.data).toEqual({
        code: 'forbidden',
        reason: 'this needs the viewer role, which the token does not grant',
      });
    });
  });

  it('disconnects a socket when its token expires; it resumes with a fresh token and its last event id', async () => {
    server = await startApp({ env: { ...HS256_ENV } });
    const operator = `Bearer ${await hs256Token({ roles: ['operator'] })}`;
    const client = await connect({ auth: { token: await hs256Token({ roles: ['viewer'], expiresIn: 3 }) } });
    const expired = new Promise((resolve) => client.socket.once(TOKEN_EXPIRED, resolve));
    const gone = client.disconnected(10_000);
    await client.emit('subscribe', { topics: ['jobs'] });
    const first = await request(server.url).post('/api/jobs/daily-report/trigger').set('Authorization', operator);
    const seen = await client.waitFor(runEvent('job.succeeded', { runId: first.body.runId }));

    await expect(expired).resolves.toEqual({ error: 'the token has expired' });
    expect(await gone).toBe('io server disconnect');

    const missed = await request(server.url).post('/api/jobs/daily-report/trigger').set('Authorization', operator);
    await eventually(
      async () => (await request(server.url).get(`/api/runs/${missed.body.runId}`).set('Authorization', operator)).body,
      (run) => run.status === 'succeeded',
    );
    const resumed = await connect({
      auth: { token: await hs256Token({ roles: ['viewer'] }), lastEventId: seen.id },
    });
    await resumed.emit('subscribe', { topics: ['jobs'] });

    await expect(resumed.waitFor(runEvent('job.succeeded', { runId: missed.body.runId }))).resolves.toMatchObject({
      type: 'job.succeeded',
    });
    expect(resumed.events.every((event) => event.id > seen.id)).toBe(true);
  });

  it('refuses more than SOCKETS_PER_USER sockets of one user, and admits another once one closes', async () => {
    server = await startApp({ env: { ...HS256_ENV, SOCKETS_PER_USER: '2' } });
    const ada = { auth: { token: await hs256Token({ sub: 'ada', roles: ['viewer'] }) } };
    const first = await connect(ada);
    await connect(ada);

    expect((await refusalOf(server.url, ada)).data).toEqual({
      code: 'too_many_sockets',
      reason: 'at most 2 sockets per user (SOCKETS_PER_USER)',
    });
    await expect(
      connect({ auth: { token: await hs256Token({ sub: 'grace', roles: ['viewer'] }) } }),
    ).resolves.toBeInstanceOf(TestClient);

    first.close();
    const third = await eventually(
      () => TestClient.connect(server.url, ada).catch(() => undefined),
      (client) => client !== undefined,
    );
    clients.push(third!);
  });

  describe('cross-site handshakes', () => {
    beforeEach(async () => {
      server = await startApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
    });

    it('refuses a handshake from an origin CORS_ORIGINS does not list', async () => {
      const refusal = await refusalOf(server.url, { extraHeaders: { Origin: 'https://evil.example.net' } });

      expect(refusal.message).toMatch(/websocket error|xhr poll error|unexpected server response: 403/i);
    });

    it('admits a listed origin', async () => {
      const client = await connect({ extraHeaders: { Origin: 'https://app.example.com' } });

      await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
    });
  });
});
