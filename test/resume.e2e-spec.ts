import type { Kysely } from 'kysely';
import request from 'supertest';
import { DATABASE } from '../src/database/database.js';
import type { Database } from '../src/database/schema.js';
import type { JobpulseEvent } from '../src/notifier/events.js';
import { startApp, type TestApp } from './support/app.js';
import { eventually } from './support/deferred.js';
import { TestClient } from './support/socket.js';

/** Resuming after a disconnect: the stored events a client missed, then live ones, once each and in order. */
describe('resuming the event stream', () => {
  let server: TestApp;
  const clients: TestClient[] = [];

  async function connect(auth?: Record<string, unknown>): Promise<TestClient> {
    const client = await TestClient.connect(server.url, { auth });
    clients.push(client);
    return client;
  }

  /** Pauses or resumes the cleanup job: one `jobs` event each, stored before the response. */
  let paused = false;
  async function toggleCleanup(times = 1): Promise<void> {
    for (let i = 0; i < times; i += 1) {
      paused = !paused;
      await request(server.url)
        .post(`/api/jobs/cleanup/${paused ? 'pause' : 'resume'}`)
        .expect(200);
    }
  }

  /** Runs the cleanup job to its end: `jobs` events and a `system` event. */
  async function runCleanup(): Promise<void> {
    const { body } = await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
    await eventually(
      async () => (await request(server.url).get(`/api/runs/${body.runId}`)).body.status,
      (status) => status === 'succeeded',
    );
  }

  async function storedAfter(id: number): Promise<JobpulseEvent[]> {
    return (await request(server.url).get(`/api/events?after=${id}&limit=500`).expect(200)).body;
  }

  async function latestId(): Promise<number> {
    return (await storedAfter(0)).at(-1)?.id ?? 0;
  }

  beforeEach(async () => {
    server = await startApp();
    paused = false;
  });

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await server.close();
  });

  it('keeps the plain subscribe acknowledgement for a client that gives no resume point', async () => {
    const client = await connect();
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
  });

  it('replays, after auth.lastEventId of the handshake, the missed events of the subscribed topics, then live ones', async () => {
    const first = await connect();
    await first.emit('subscribe', { topics: ['jobs'] });
    await toggleCleanup();
    const seen = (await first.waitFor((event) => event.type === 'job.paused')).id;
    first.close();

    await runCleanup();
    await toggleCleanup(3);
    const missed = (await storedAfter(seen)).filter((event) => event.topic === 'jobs');
    expect(missed.length).toBeGreaterThanOrEqual(5);

    const again = await connect({ lastEventId: seen });
    await expect(again.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: missed.length,
    });
    await toggleCleanup();
    const live = await again.waitFor((event) => event.id > missed.at(-1)!.id);

    expect(again.events).toEqual([...missed, live]);
    expect(again.resyncs).toEqual([]);
  });

  it('replays only the topics subscribed to', async () => {
    const seen = await latestId();
    await runCleanup();
    const stored = await storedAfter(seen);
    expect(new Set(stored.map((event) => event.topic))).toEqual(new Set(['jobs', 'system']));

    const client = await connect({ lastEventId: seen });
    await expect(client.emit('subscribe', { topics: ['system', 'reports'] })).resolves.toEqual({
      ok: true,
      topics: ['reports', 'system'],
      replayed: 1,
    });

    expect(client.events).toEqual(stored.filter((event) => event.topic === 'system'));
  });

  it('replays on the resume message: sent before subscribing, in order', async () => {
    await toggleCleanup();
    const seen = await latestId();
    await toggleCleanup(2);
    const missed = await storedAfter(seen);

    const client = await connect();
    await expect(client.emit('resume', { lastEventId: seen })).resolves.toEqual({ ok: true, topics: [], replayed: 0 });
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: 2,
    });

    expect(client.events).toEqual(missed);
  });

  it('replays on the resume message: sent after subscribing, what was not sent live, once', async () => {
    const seen = await latestId();
    await toggleCleanup(2);
    const client = await connect();
    await client.emit('subscribe', { topics: ['jobs'] });
    await toggleCleanup();
    const live = await client.waitFor(() => true);

    await expect(client.emit('resume', { lastEventId: seen })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: 2,
    });

    expect(client.events).toEqual([live, ...(await storedAfter(seen)).slice(0, 2)]);
  });

  it('tells the client to resync when events after its point were pruned, then sends live ones', async () => {
    await toggleCleanup(3);
    const [oldest, , newest] = await storedAfter(0);
    const db = server.app.get<symbol, Kysely<Database>>(DATABASE);
    await db.deleteFrom('events').where('id', '<', newest.id).execute(); // as retention would

    const client = await connect({ lastEventId: oldest.id });
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: 0,
      resync: true,
    });
    await toggleCleanup();
    const live = await client.waitFor(() => true);

    expect(client.resyncs).toEqual([{ type: 'resync', latestEventId: newest.id }]);
    expect(client.events).toEqual([live]);
  });

  it('tells the client to resync when its point is newer than any event', async () => {
    await toggleCleanup();
    const latest = await latestId();
    const client = await connect();
    await client.emit('subscribe', { topics: ['jobs'] });

    await expect(client.emit('resume', { lastEventId: latest + 100 })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: 0,
      resync: true,
    });

    expect(client.resyncs).toEqual([{ type: 'resync', latestEventId: latest }]);
  });

  it.each([
    ['a negative lastEventId', { lastEventId: -1 }, 'lastEventId must be a non-negative integer'],
    ['a fractional lastEventId', { lastEventId: 1.5 }, 'lastEventId must be a non-negative integer'],
    ['a string', { lastEventId: '12' }, 'lastEventId must be a non-negative integer'],
    ['no lastEventId', {}, 'lastEventId must be a non-negative integer'],
    ['an extra property', { lastEventId: 1, since: 2 }, 'property since should not exist'],
  ])('answers resume with %s by an error acknowledgement and keeps the connection', async (_, body, error) => {
    const client = await connect();
    const bystander = await connect();
    await bystander.emit('subscribe', { topics: ['jobs'] });

    await expect(client.emit('resume', body)).resolves.toEqual({ ok: false, error });

    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
    await toggleCleanup();
    await client.waitFor((event) => event.type === 'job.paused');
    await bystander.waitFor((event) => event.type === 'job.paused');
  });

  it('reports a bad auth.lastEventId as an exception and keeps the connection, without a resume point', async () => {
    const client = await connect({ lastEventId: 'yesterday' });

    await eventually(
      () => Promise.resolve(client.exceptions),
      (exceptions) => exceptions.length > 0,
    );
    expect(client.exceptions).toEqual([{ ok: false, error: 'lastEventId must be a non-negative integer' }]);
    expect(client.socket.connected).toBe(true);
    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
  });

  it('treats a null auth.lastEventId as no resume point', async () => {
    await toggleCleanup();
    const client = await connect({ lastEventId: null });

    await expect(client.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({ ok: true, topics: ['jobs'] });
    expect(client.exceptions).toEqual([]);
    expect(client.events).toEqual([]);
  });
});
