// Three replicas on one PostgreSQL database, for two figures:
//
// 5. Schedule lag on three replicas: bench-tick fires every second on each, and each tick is
//    claimed and run by one of them (see schedule-lag.mjs).
// 7. Cross-replica: clients connected to replica B. A run triggered on replica A reaches them
//    through the database (socket.io's PostgreSQL adapter announces it, B reads it from the events
//    table); one triggered on B itself goes straight out. Time from the REST trigger until every
//    client holds job.started, alternating A and B, while bench-tick goes on ticking.
import { performance } from 'node:perf_hooks';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { measureLag, TICKING, ticksOf } from './schedule-lag.mjs';
import { summary } from './stats.mjs';
import { startJobpulse, trigger } from './targets.mjs';

const REPLICAS = 3;
const CLIENTS = 100;
const WARM_UP = 3;

export async function cluster(ctx) {
  const postgres = await ctx.postgres();
  if (postgres.skipped) return { skipped: postgres.skipped };
  const url = await postgres.createDatabase();
  const replicas = [];
  try {
    // Started together, as a rolling deployment would; their start-up is not what is measured here.
    const starting = Array.from({ length: REPLICAS }, (_, i) =>
      startJobpulse(url, { name: `jobpulse replica ${i + 1}`, env: { ...TICKING, NODE_ID: `replica-${i + 1}` } }),
    );
    const outcomes = await Promise.allSettled(starting);
    replicas.push(...outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const lag = { ticks: ticksOf(ctx), ...(await measureLag(ctx, replicas, ticksOf(ctx))) };
    const crossReplica = await crossReplicaLatency(ctx, replicas[0], replicas[1]);
    return { lag, crossReplica };
  } finally {
    for (const replica of replicas) await replica.stop();
  }
}

async function crossReplicaLatency(ctx, a, b) {
  const events = ctx.quick ? 20 : 100;
  const target = 'cross-replica';
  try {
    await ctx.pool.connect(target, { url: b.url, count: CLIENTS, report: ['job.started', 'job.succeeded'] });
    const latencies = { cross: [], local: [] };
    for (let i = 0; i < WARM_UP + events; i++) {
      const order =
        i % 2
          ? [
              ['cross', a],
              ['local', b],
            ]
          : [
              ['local', b],
              ['cross', a],
            ];
      for (const [path, replica] of order) {
        const sent = performance.now();
        const runId = await trigger(replica.url, NOOP_JOBS[i % NOOP_JOBS.length]);
        const held = await ctx.pool.allHold(target, `job.started:${runId}`);
        await ctx.pool.allHold(target, `job.succeeded:${runId}`);
        if (i >= WARM_UP) latencies[path].push(held - sent);
      }
    }
    const result = { clients: CLIENTS, cross: summary(latencies.cross), local: summary(latencies.local) };
    ctx.log(`cross-replica: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await ctx.pool.close(target);
  }
}
