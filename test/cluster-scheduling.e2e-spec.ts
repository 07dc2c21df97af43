import request from 'supertest';
import type { Run } from '../src/database/runs.repository.js';
import { eventually } from './support/deferred.js';
import {
  isAlive,
  logLines,
  logsWith,
  runById,
  runsOf,
  startCluster,
  type Cluster,
  type Replica,
} from './support/cluster.js';
import { testDialect } from './support/database.js';
import { startPostgresCluster, type PostgresCluster } from './support/postgres-cluster.js';
import { createPostgresDatabaseUrl, dropPostgresDatabase } from './support/postgres.js';
import { TestClient } from './support/socket.js';

// Three replicas on one PostgreSQL database need PostgreSQL whatever the project's dialect, so
// they belong to the e2e:postgres project only: jest.config.js keeps this file out of the SQLite
// projects (testPathIgnorePatterns), and a SQLite project that loads it anyway fails loudly here.
if (testDialect() !== 'postgres') {
  throw new Error(
    'test/cluster-scheduling.e2e-spec.ts runs in the e2e:postgres project only; ' +
      'jest.config.js must ignore it in the SQLite projects (testPathIgnorePatterns)',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const SECOND = 1000;
const EVERY_SECOND = '* * * * * ?';
/** Never due while a test runs. */
const NEVER = '0 0 0 1 1 ? 2199';
/** Ticks and their catch-ups: the runs that claim a fire time. */
const isTickRun = (run: Run) => run.trigger === 'schedule' || run.trigger === 'catch-up';

/** The environment of every replica: the fixture's jobs off their schedules unless a test turns them on. */
function replicaEnv(databaseUrl: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REPORT_ON_STARTUP: 'false',
    // spawnServer waits for the `listening` line, which is logged at level log.
    LOG_LEVEL: 'log',
    TICK_CRON: NEVER,
    MARATHON_CRON: NEVER,
    ...env,
  };
}

/** How many items have each key, for the distribution of runs over replicas. */
function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

async function healthOf(replica: Replica): Promise<{ status: number; message?: string }> {
  const { status, body } = await request(replica.url).get('/health');
  return { status, message: (body as { message?: string }).message };
}

/** Fails, with the end of its output, if the replica's process has ended. */
function expectAlive(replica: Replica): void {
  if (isAlive(replica)) return;
  const ended = replica.child.exitCode ?? replica.child.signalCode;
  throw new Error(`${replica.nodeId} has ended (${ended}); its last output:\n${replica.output().slice(-6000)}`);
}

/** Log lines that would mean a replica crashed or let an error escape. */
function crashLines(replica: Replica) {
  return logLines(replica).filter((line) => line.level === 'fatal' || /unhandled|uncaught/i.test(JSON.stringify(line)));
}

/**
 * These run the built service (`npm test` builds first) as three processes on one PostgreSQL
 * database, in sequence: about 80 s in all, most of it the 30 s of ticks and the 10 s outage.
 */
describe('three replicas on one PostgreSQL database', () => {
  /** The outage test's own PostgreSQL server: started at once, so that its initdb overlaps the first tests. */
  let privatePostgres: Promise<PostgresCluster> | undefined;

  beforeAll(() => {
    privatePostgres = startPostgresCluster();
    // A failure to start surfaces in the outage test, which awaits it.
    privatePostgres.catch(() => undefined);
  });

  afterAll(async () => {
    const postgres = await privatePostgres?.catch(() => undefined);
    await postgres?.destroy();
  });

  /**
   * The first three tests share one cluster (starting three processes costs seconds). Each
   * works alone too; the last one kills a replica. The marathon job's first run starts at once
   * and runs on one replica through all three tests, while its other ticks are skipped.
   */
  describe('sharing one cluster: a tick every second, a marathon run, RUN_LEASE_MS 2000', () => {
    const leaseMs = 2000;
    let databaseUrl: string | undefined;
    let cluster: Cluster | undefined;

    beforeAll(async () => {
      databaseUrl = await createPostgresDatabaseUrl();
      const env = replicaEnv(databaseUrl, {
        TICK_CRON: EVERY_SECOND,
        MARATHON_CRON: EVERY_SECOND,
        RUN_LEASE_MS: String(leaseMs),
        LONG_WORK_MS: '2000',
      });
      cluster = await startCluster({ replicas: 3, env });
    }, 30_000);

    afterAll(async () => {
      try {
        await cluster?.destroy();
      } finally {
        if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      }
    });

    it('runs each tick of an every-second job exactly once, spread over the replicas', async () => {
      const [first, second] = cluster!.replicas;
      // Long enough for three replicas to race for a dozen ticks.
      const windowSeconds = 12;
      await sleep(windowSeconds * SECOND);
      cluster!.replicas.forEach(expectAlive);

      const snapshotAt = Date.now();
      const runs = (await runsOf(first.url, 'tick')).filter(isTickRun);
      const fireTimes = runs.map((run) => run.scheduledFor).sort();
      // One run per fire time: no fire time was recorded twice.
      expect(new Set(fireTimes).size).toBe(fireTimes.length);
      // And none is missing between the first and the last one recorded (the seconds of start-up
      // and of this snapshot lie outside that range).
      for (const fireTime of fireTimes) expect(fireTime).toMatch(/T\d\d:\d\d:\d\d\.000Z$/);
      const gaps = fireTimes.slice(1).map((fireTime, index) => Date.parse(fireTime) - Date.parse(fireTimes[index]));
      expect(gaps.filter((gap) => gap !== SECOND)).toEqual([]);
      expect(fireTimes.length).toBeGreaterThanOrEqual(windowSeconds - 2);
      // Each ran to success (a tick takes 100 ms: none overlaps); only the newest may still be running.
      const settled = runs.filter((run) => Date.parse(run.scheduledFor) < snapshotAt - SECOND);
      expect(settled.filter((run) => run.status !== 'succeeded')).toEqual([]);

      const distribution = countBy(runs, (run) => run.node ?? 'none');
      console.log(`tick: ${fireTimes.length} fire times, runs per replica ${JSON.stringify(distribution)}`);
      expect(Object.keys(distribution).every((node) => /^node-[123]$/.test(node))).toBe(true);
      expect(Object.keys(distribution).length).toBeGreaterThan(1);
      // Any replica serves a run with the node that ran it.
      for (const run of runs.slice(0, 5)) {
        expect(await runById(second.url, run.id)).toMatchObject({ id: run.id, node: run.node });
      }
      for (const replica of cluster!.replicas) {
        expectAlive(replica);
        expect(logLines(replica).filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
      }
    }, 30_000);

    it('refuses a trigger on one replica while the job runs on another, and queues one across replicas', async () => {
      cluster!.replicas.forEach(expectAlive);
      const [a, b, c] = cluster!.replicas;

      // overlap 'skip': while the run goes on on B, triggers through A and C are 409s naming it.
      const running = (await request(b.url).post('/api/jobs/long/trigger').expect(202)).body.runId as string;
      expect(await runById(a.url, running)).toMatchObject({ status: 'running', node: b.nodeId });
      for (const other of [a, c]) {
        const refused = await request(other.url).post('/api/jobs/long/trigger').expect(409);
        expect(refused.body).toMatchObject({ statusCode: 409, runId: running });
        expect(refused.body.message).toContain(running);
      }
      for (const replica of cluster!.replicas) {
        const { body: job } = await request(replica.url).get('/api/jobs/long').expect(200);
        expect(job.running).toBe(true);
      }
      const skipped = (await runsOf(c.url, 'long')).filter((run) => run.status === 'skipped');
      expect(skipped.map((run) => run.node).sort()).toEqual([a.nodeId, c.nodeId]);
      for (const run of skipped) expect(run.error).toBe(`skipped: run ${running} of long is still running`);

      // overlap 'queue': one request waits, on the replica that took it; the next ones are refused.
      const ahead = (await request(b.url).post('/api/jobs/long-queue/trigger').expect(202)).body.runId as string;
      const queuing = await request(a.url).post('/api/jobs/long-queue/trigger').expect(202);
      expect(queuing.body).toMatchObject({ job: 'long-queue', status: 'queued' });
      const queued = queuing.body.runId as string;
      expect(await runById(c.url, queued)).toMatchObject({ status: 'queued', node: a.nodeId });
      for (const other of [c, a]) {
        const refused = await request(other.url).post('/api/jobs/long-queue/trigger').expect(409);
        expect(refused.body.runId).toBe(ahead);
      }

      const aheadDone = await eventually(
        () => runById(c.url, ahead),
        (run) => run.status !== 'running',
        6000,
      );
      expect(aheadDone).toMatchObject({ status: 'succeeded', node: b.nodeId });
      // A checks every second whether the run ahead, wherever it runs, has ended.
      const queuedStarted = await eventually(
        () => runById(c.url, queued),
        (run) => run.status !== 'queued',
        3000,
      );
      expect(queuedStarted).toMatchObject({ status: 'running', node: a.nodeId });
      const waitedMs = Date.parse(queuedStarted.startedAt) - Date.parse(aheadDone.finishedAt!);
      console.log(`long-queue: the queued run started on ${a.nodeId} ${waitedMs} ms after the run ahead ended`);
      expect(waitedMs).toBeGreaterThanOrEqual(0);
      expect(waitedMs).toBeLessThan(1500);
      await eventually(
        () => runById(b.url, queued),
        (run) => run.status === 'succeeded',
        5000,
      );
      expect(await runById(b.url, running)).toMatchObject({ status: 'succeeded', node: b.nodeId });
      const outcomes = (await runsOf(b.url, 'long-queue')).map((run) => `${run.status}@${run.node}`).sort();
      expect(outcomes).toEqual(
        [`succeeded@${b.nodeId}`, `succeeded@${a.nodeId}`, `skipped@${c.nodeId}`, `skipped@${a.nodeId}`].sort(),
      );
      for (const replica of cluster!.replicas) {
        for (const job of ['long', 'long-queue']) {
          const { body } = await request(replica.url).get(`/api/jobs/${job}`).expect(200);
          expect(body.running).toBe(false);
        }
      }
    }, 30_000);

    it('marks the run of a replica killed mid-run abandoned within the lease; the next tick runs on a survivor', async () => {
      cluster!.replicas.forEach(expectAlive);
      const run = (await eventually(
        async () => (await runsOf(cluster!.replicas[0].url, 'marathon')).find((found) => found.status === 'running'),
        (found) => found !== undefined,
        5000,
      ))!;
      const victim = cluster!.replicas.find((replica) => replica.nodeId === run.node)!;
      const survivors = cluster!.replicas.filter((replica) => replica !== victim);
      // Running for 1.5 leases at least, and not taken: its replica renews the lease, and no other takes it.
      await sleep(Date.parse(run.startedAt) + 1.5 * leaseMs - Date.now());
      expect(await runById(survivors[0].url, run.id)).toMatchObject({ status: 'running', node: victim.nodeId });

      const killedAt = Date.now();
      await cluster!.kill(victim);
      const abandoned = await eventually(
        () => runById(survivors[0].url, run.id),
        (current) => current.status !== 'running',
        10_000,
      );
      const abandonMs = Date.now() - killedAt;
      expect(abandoned).toMatchObject({
        status: 'abandoned',
        error: 'lease expired: the process running it stopped',
        node: victim.nodeId,
      });
      // Not before its lease (renewed every third of it) ran out, and soon after: sweeps come every fifth.
      expect(abandonMs).toBeGreaterThanOrEqual(leaseMs / 2);
      expect(abandonMs).toBeLessThan(leaseMs * 1.5 + 500);
      // One survivor took it.
      const takers = await eventually(
        () =>
          Promise.resolve(
            survivors.filter((replica) => logsWith(replica, 'run abandoned').some((line) => line.runId === run.id)),
          ),
        (found) => found.length > 0,
      );
      expect(takers).toHaveLength(1);

      const next = (await eventually(
        async () =>
          (await runsOf(survivors[0].url, 'marathon')).find(
            (found) => found.status === 'running' && found.id !== run.id,
          ),
        (found) => found !== undefined,
        3000,
      ))!;
      expect(next.trigger).toBe('schedule');
      expect(survivors.map((replica) => replica.nodeId)).toContain(next.node);
      const nextMs = Date.parse(next.startedAt) - Date.parse(abandoned.finishedAt!);
      expect(nextMs).toBeGreaterThanOrEqual(0);
      console.log(
        `marathon: the run of ${victim.nodeId} was abandoned by ${takers[0].nodeId} ${abandonMs} ms after ` +
          `SIGKILL (RUN_LEASE_MS ${leaseMs}); the next tick ran on ${next.node} ${nextMs} ms later`,
      );
      for (const replica of survivors) expectAlive(replica);
    }, 30_000);
  });

  /**
   * The last two share a cluster on the PostgreSQL server of their own (the outage test stops it),
   * with a start-up report on and a tick every second: the rolling restart of the first leaves
   * three replicas for the outage of the second, which works alone too.
   */
  describe('on a PostgreSQL server of their own: a start-up report, a tick every second', () => {
    let postgres: PostgresCluster;
    let cluster: Cluster | undefined;
    let client: TestClient | undefined;

    beforeAll(async () => {
      postgres = await privatePostgres!;
      const env = replicaEnv(postgres.url, {
        REPORT_ON_STARTUP: 'true',
        TICK_CRON: EVERY_SECOND,
        LONG_WORK_MS: '3000',
        // Longer than the outage: past its lease, another replica would take the run in flight for
        // abandoned once the database is back, though its own replica still holds it.
        RUN_LEASE_MS: '30000',
      });
      cluster = await startCluster({ replicas: 3, env });
    }, 30_000);

    afterAll(async () => {
      client?.close();
      await cluster?.destroy();
    });

    it('writes one start-up report across replicas started together and then restarted one by one', async () => {
      const requested = 'start-up report requested';
      const alreadyRun = 'start-up report already run by a replica within STARTUP_RUN_WINDOW';
      // Each process decides once, soon after it listens (the start-up run does not delay listen).
      const decided = (replica: Replica) =>
        eventually(
          () => Promise.resolve(logsWith(replica, requested).length + logsWith(replica, alreadyRun).length),
          (count) => count > 0,
        );
      for (const replica of cluster!.replicas) await decided(replica);
      // A rolling restart: each replica in turn drains, exits 0 and starts again.
      for (const replica of [...cluster!.replicas]) await decided(await cluster!.restart(replica));

      const processes = cluster!.started;
      expect(processes).toHaveLength(6);
      const requesters = processes.filter((replica) => logsWith(replica, requested).length > 0);
      expect(requesters).toHaveLength(1);
      expect(processes.filter((replica) => logsWith(replica, alreadyRun).length === 1)).toHaveLength(5);
      const url = cluster!.replicas[2].url;
      const startupRuns = (await runsOf(url, 'daily-report')).filter((run) => run.trigger === 'startup');
      expect(startupRuns).toHaveLength(1);
      expect(startupRuns[0].node).toBe(requesters[0].nodeId);
      expect(
        await eventually(
          () => runById(url, startupRuns[0].id),
          (run) => run.status !== 'running',
        ),
      ).toMatchObject({ status: 'succeeded' });
      const { body: reports } = await request(url).get('/api/reports').expect(200);
      expect(reports).toHaveLength(1);
    }, 40_000);

    it('rides out a 10 s database outage: no replica exits, /health follows the database, ticks resume once', async () => {
      const outageMs = 10 * SECOND;
      const replicas = cluster!.replicas;
      replicas.forEach(expectAlive);
      const [a, b] = replicas;
      client = await TestClient.connect(a.url);
      await client.emit('subscribe', { topics: ['jobs'] });
      await eventually(
        async () => (await runsOf(b.url, 'tick')).filter((run) => run.status === 'succeeded'),
        (runs) => runs.length >= 1,
        5000,
      );

      // A run in flight when the database goes away: its outcome is written once it is back.
      const inFlight = (await request(b.url).post('/api/jobs/long/trigger').expect(202)).body.runId as string;
      await postgres.stop();
      const stoppedAt = Date.now();
      for (const health of await Promise.all(replicas.map(healthOf))) {
        expect(health.status).toBe(503);
        expect(health.message).toContain('database does not answer');
      }
      await sleep(outageMs / 2);
      for (const replica of replicas) {
        expectAlive(replica);
        expect((await healthOf(replica)).status).toBe(503);
      }
      await sleep(stoppedAt + outageMs - Date.now());
      const restartAt = Date.now();
      await postgres.start();
      const restartedAt = Date.now();

      await eventually(
        () => Promise.all(replicas.map(healthOf)),
        (checks) => checks.every((check) => check.status === 200),
        10_000,
      );
      const healthyMs = Date.now() - restartedAt;
      const resumed = (await eventually(
        async () =>
          (await runsOf(a.url, 'tick')).find(
            (run) => run.status === 'succeeded' && Date.parse(run.scheduledFor) > restartedAt,
          ),
        (found) => found !== undefined,
        5000,
      ))!;
      const finished = await eventually(
        () => runById(a.url, inFlight),
        (run) => run.status !== 'running',
        5000,
      );
      expect(finished).toMatchObject({ status: 'succeeded', node: b.nodeId });
      expect(
        logsWith(b, 'run outcome (succeeded) recorded after retrying').some((line) => line.runId === inFlight),
      ).toBe(true);
      // The socket.io client stayed connected and hears of runs again.
      await client.waitFor(
        (event) =>
          event.type === 'job.succeeded' &&
          Date.parse((event.data as { scheduledFor: string }).scheduledFor) > restartedAt,
        5000,
      );
      expect(client.socket.connected).toBe(true);
      console.log(
        `outage: database down ${restartAt - stoppedAt} ms; ` +
          `/health 200 on every replica ${healthyMs} ms after it was back; ` +
          `first tick after it ${resumed.scheduledFor} on ${resumed.node}`,
      );

      const runs = (await runsOf(a.url, 'tick')).filter(isTickRun);
      const fireTimes = runs.map((run) => run.scheduledFor);
      expect(new Set(fireTimes).size).toBe(fireTimes.length);
      // The ticks the outage swallowed are not run afterwards.
      const swallowed = runs.filter(
        (run) => Date.parse(run.scheduledFor) > stoppedAt + SECOND && Date.parse(run.scheduledFor) < restartAt - SECOND,
      );
      expect(swallowed).toEqual([]);
      // The ticks before it all ran and were recorded, one in flight when it began included.
      const before = runs.filter((run) => Date.parse(run.scheduledFor) < stoppedAt - SECOND);
      expect(before.length).toBeGreaterThan(0);
      expect(before.filter((run) => run.status !== 'succeeded')).toEqual([]);

      for (const replica of replicas) {
        expectAlive(replica);
        expect(crashLines(replica)).toEqual([]);
        // Every replica's timer kept firing, and logged each tick it could not record (an outage that spans
        // the hour also fails the hourly cleanup's tick: only the every-second job's are counted).
        const failed = logsWith(replica, 'scheduled run could not start');
        const failedTicks = failed.filter((line) => line.job === 'tick');
        expect(failedTicks.length).toBeGreaterThanOrEqual(5);
        expect(failed.every((line) => line.level === 'error')).toBe(true);
      }
    }, 60_000);
  });
});
