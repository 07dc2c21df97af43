import request from 'supertest';
import { MAX_PACKET_BYTES } from '../src/gateway/configured-io.adapter.js';
import { startApp, type TestApp } from './support/app.js';
import { runEvent, TestClient } from './support/socket.js';

describe('limits on socket.io messages', () => {
  let server: TestApp;
  let watcher: TestClient;
  const clients: TestClient[] = [];
  const connect = async () => {
    const client = await TestClient.connect(server.url);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    server = await startApp({ env: { SOCKET_MESSAGES_PER_SECOND: '5' } });
    watcher = await connect();
    await watcher.emit('subscribe', { topics: ['jobs'] });
  });

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await server.close();
  });

  /** Another client still gets the events of a run triggered now. */
  async function othersStillServed(): Promise<void> {
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await watcher.waitFor(runEvent('job.succeeded', { runId: body.runId }));
  }

  it('answers messages beyond the rate with an error acknowledgement, and keeps the socket', async () => {
    const client = await connect();

    const replies = await Promise.all(
      Array.from({ length: 8 }, () => client.emit<{ ok: boolean; error?: string }>('subscribe', { topics: ['jobs'] })),
    );

    expect(replies.filter((reply) => reply.ok)).toHaveLength(5);
    expect(replies.filter((reply) => !reply.ok)).toEqual(
      Array(3).fill({ ok: false, error: 'too many messages: at most 5 per second (SOCKET_MESSAGES_PER_SECOND)' }),
    );
    expect(client.socket.connected).toBe(true);
  });

  it('disconnects a socket that floods it with messages, while other clients keep receiving events', async () => {
    const flooder = await connect();
    const gone = flooder.disconnected();

    for (let i = 0; i < 2000 && flooder.socket.connected; i++) flooder.socket.emit('subscribe', { topics: [i] });

    expect(await gone).toBe('io server disconnect');
    await othersStillServed();
  });

  it('closes the connection of an oversize message, while other clients keep receiving events', async () => {
    const client = await connect();
    const gone = client.disconnected();

    client.socket.emit('subscribe', { topics: ['x'.repeat(MAX_PACKET_BYTES)] });

    expect(await gone).toBe('transport close');
    await othersStillServed();
  });

  it('answers an unknown message instead of leaving the client to time out', async () => {
    const client = await connect();

    await expect(client.emit('subscribes', { topics: ['jobs'] })).resolves.toEqual({
      ok: false,
      error: 'unknown message "subscribes": send subscribe, unsubscribe, resume',
    });
  });

  it('answers a payload nested 5,000 levels deep with an error, and goes on serving the socket', async () => {
    const client = await connect();
    const topics = `${'['.repeat(5000)}"jobs"${']'.repeat(5000)}`;

    // Written as raw text: socket.io-client's own encoder overflows its stack on such a payload.
    await expect(sendRaw(client, 77, `["subscribe",{"topics":${topics}}]`)).resolves.toEqual({
      ok: false,
      error: 'the message is nested deeper than 8 levels',
    });
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
  });
});

/** Sends an encoded socket.io event with acknowledgement id `ackId`, and resolves with the acknowledgement's value. */
function sendRaw(client: TestClient, ackId: number, encodedEvent: string): Promise<unknown> {
  const engine = client.socket.io.engine;
  return new Promise((resolve) => {
    const onPacket = (packet: { type: string; data?: unknown }) => {
      // socket.io's ACK packet: type 3, the id, then the acknowledgement's arguments.
      if (packet.type !== 'message' || typeof packet.data !== 'string' || !packet.data.startsWith(`3${ackId}[`)) return;
      engine.off('packet', onPacket);
      resolve((JSON.parse(packet.data.slice(`3${ackId}`.length)) as unknown[])[0]);
    };
    engine.on('packet', onPacket);
    // socket.io's EVENT packet: type 2, then the id.
    engine.write(`2${ackId}${encodedEvent}`);
  });
}
