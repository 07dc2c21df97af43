import request from 'supertest';
import { startApp, type TestApp } from './support/app.js';

describe('CORS_ORIGINS', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({ env: { CORS_ORIGINS: 'https://ops.example.com, https://admin.example.com' } });
  });
  afterAll(() => server.close());

  it.each(['https://ops.example.com', 'https://admin.example.com'])(
    'lets %s call the REST API and open a socket',
    async (origin) => {
      const rest = await request(server.url).get('/api/jobs').set('Origin', origin).expect(200);
      expect(rest.headers['access-control-allow-origin']).toBe(origin);
      const socket = await request(server.url)
        .get('/socket.io/?EIO=4&transport=polling')
        .set('Origin', origin)
        .expect(200);
      expect(socket.headers['access-control-allow-origin']).toBe(origin);
    },
  );

  it('does not grant other origins', async () => {
    const rest = await request(server.url).get('/api/jobs').set('Origin', 'https://evil.example.net').expect(200);
    expect(rest.headers['access-control-allow-origin']).toBeUndefined();
    const socket = await request(server.url)
      .get('/socket.io/?EIO=4&transport=polling')
      .set('Origin', 'https://evil.example.net');
    expect(socket.headers['access-control-allow-origin']).toBeUndefined();
  });
});
