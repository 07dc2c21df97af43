import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { JobpulseEvent } from '../src/notifier/events.js';
import { testDialect } from './support/database.js';
import { eventually } from './support/deferred.js';
import { createPostgresDatabaseUrl, dropPostgresDatabase } from './support/postgres.js';
import { MAIN, spawnServer, type ServerProcess } from './support/server-process.js';
import { TestClient } from './support/socket.js';

// Replicas share events through PostgreSQL only (socket.io's adapter and the events table), so
// this file belongs to the e2e:postgres project: jest.config.js keeps it out of the SQLite
// projects (testPathIgnorePatterns), and a SQLite project that loads it anyway fails loudly here.
if (testDialect() !== 'postgres') {
  throw new Error(
    'test/cluster-events.e2e-spec.ts runs in the e2e:postgres project only; ' +
      'jest.config.js must ignore it in the SQLite projects (testPathIgnorePatterns)',
  );
}

/** Three replicas of the built service (`npm test` builds first) on one fresh PostgreSQL database. */
describe('events across replicas', () => {
  let dir: string;
  let databaseUrl: string;
  let replicas: ServerProcess[];
  let a: string, b: string, c: string;
  const clients: TestClient[] = [];

  async function connect(url: string, auth?: Record<string, unknown>): Promise<TestClient> {
    const client = await TestClient.connect(url, { auth });
    clients.push(client);
    return client;
  }

  async function storedAfter(id: number): Promise<JobpulseEvent[]> {
    const events: JobpulseEvent[] = [];
    for (;;) {
      const { body } = await request(a)
        .get(`/api/events?after=${events.at(-1)?.id ?? id}&limit=500`)
        .expect(200);
      events.push(...(body as JobpulseEvent[]));
      if (body.length < 500) return events;
    }
  }

  /**
   * Pauses then resumes a job through `url`: two `jobs` events per round. The pause state is
   * the cluster's, so replicas publishing at the same time each toggle a job of their own.
   */
  async function pauseAndResume(url: string, rounds: number, job = 'cleanup'): Promise<void> {
    for (let i = 0; i < rounds; i += 1) {
      await request(url).post(`/api/jobs/${job}/pause`).expect(200);
      await request(url).post(`/api/jobs/${job}/resume`).expect(200);
    }
  }

  const ids = (events: JobpulseEvent[]) => events.map((event) => event.id);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobpulse-cluster-'));
    databaseUrl = await createPostgresDatabaseUrl();
    replicas = [];
    for (const node of ['a', 'b', 'c']) {
      const env = { DATABASE_URL: databaseUrl, REPORT_ON_STARTUP: 'false', NODE_ID: `replica-${node}` };
      replicas.push(await spawnServer(MAIN, env, dir));
    }
    [a, b, c] = replicas.map((replica) => replica.url);
  });

  afterEach(() => {
    clients.splice(0).forEach((client) => client.close());
  });

  afterAll(async () => {
    for (const replica of replicas ?? []) replica.child.kill('SIGTERM');
    const codes = await Promise.all((replicas ?? []).map((replica) => replica.exited));
    rmSync(dir, { recursive: true, force: true });
    await dropPostgresDatabase(databaseUrl);
    expect(codes).toEqual([0, 0, 0]);
  });

  it('delivers to a client on one replica, in order and once each, the events of a job triggered through another', async () => {
    const onA = await connect(a);
    await onA.emit('subscribe', { topics: ['jobs', 'system'] });

    const { body } = await request(c).post('/api/jobs/cleanup/trigger').expect(202);
    await onA.waitFor((event) => event.type === 'job.succeeded' && event.data.runId === body.runId);
    await onA.waitFor((event) => event.type === 'cleanup.completed' && event.data.runId === body.runId);

    const stored = (await storedAfter(0)).filter((event) => (event.data as { runId?: string }).runId === body.runId);
    // Cleanup reports progress as it goes through its tables: how often depends on how long each takes.
    const lifecycle = stored.filter((event) => event.type !== 'job.progress');
    expect(lifecycle.map((event) => event.type)).toEqual(['job.started', 'cleanup.completed', 'job.succeeded']);
    expect(onA.eventsOfRun(body.runId)).toEqual(stored);
  });

  it('delivers events published concurrently through two replicas to a third one, once each, in id order', async () => {
    const onA = await connect(a);
    await onA.emit('subscribe', { topics: ['jobs'] });
    const from = (await storedAfter(0)).at(-1)?.id ?? 0;

    await Promise.all([pauseAndResume(b, 15), pauseAndResume(c, 15, 'daily-report')]);
    const stored = (await storedAfter(from)).filter((event) => event.topic === 'jobs');
    expect(stored.length).toBeGreaterThanOrEqual(60);
    await onA.waitFor((event) => event.id === stored.at(-1)!.id);

    expect(onA.events).toEqual(stored);
  });

  it('catches a client up on 100 missed events, exactly once and in order, when it reconnects to another replica', async () => {
    const first = await connect(a);
    await first.emit('subscribe', { topics: ['jobs'] });
    await request(b).post('/api/jobs/cleanup/pause').expect(200);
    const lastSeen = (await first.waitFor((event) => event.type === 'job.paused')).id;
    first.close();
    await request(b).post('/api/jobs/cleanup/resume').expect(200);

    // 100 events, through the two other replicas at once.
    await Promise.all([pauseAndResume(b, 25), pauseAndResume(c, 25, 'daily-report')]);
    const missed = (await storedAfter(lastSeen)).filter((event) => event.topic === 'jobs');
    expect(missed.length).toBeGreaterThanOrEqual(101);

    const again = await connect(c, { lastEventId: lastSeen });
    await expect(again.emit('subscribe', { topics: ['jobs'] })).resolves.toEqual({
      ok: true,
      topics: ['jobs'],
      replayed: missed.length,
    });
    expect(again.events).toEqual(missed);

    // Then live ones, whichever replica publishes them.
    await pauseAndResume(a, 1);
    const live = (await storedAfter(missed.at(-1)!.id)).filter((event) => event.topic === 'jobs');
    await again.waitFor((event) => event.id === live.at(-1)!.id);
    expect(again.events).toEqual([...missed, ...live]);
    expect(new Set(ids(again.events)).size).toBe(again.events.length);
  });

  it('lets the replicas run on while one of them stops', async () => {
    const onA = await connect(a);
    await onA.emit('subscribe', { topics: ['jobs'] });
    const spare = await spawnServer(
      MAIN,
      { DATABASE_URL: databaseUrl, REPORT_ON_STARTUP: 'false', NODE_ID: 'replica-d' },
      dir,
    );
    spare.child.kill('SIGTERM');
    expect(await spare.exited).toBe(0);

    await pauseAndResume(b, 1);
    const [, resumed] = (await storedAfter(0)).slice(-2);
    await eventually(
      () => Promise.resolve(ids(onA.events)),
      (received) => received.includes(resumed.id),
    );
  });
});
