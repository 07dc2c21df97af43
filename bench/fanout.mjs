// 1. Fan-out: a REST trigger, then the resulting event (job.started) held by every one of N
// subscribed clients. jobpulse (store, then emit to a room) against a bare socket.io server that
// broadcasts the same payload to a room after a REST call, and a bare ws server as the floor.
// The three servers run side by side with N clients each; triggers go to each in turn, so every
// figure is measured alternately with its baselines. Each trigger waits until every client also
// holds the run's job.succeeded, so that no two measurements overlap.
import { performance } from 'node:perf_hooks';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { round, summary } from './stats.mjs';
import { startBareSocketIo, startBareWs, startJobpulse, trigger } from './targets.mjs';

const WARM_UP = 3;
const COUNTED = ['job.started', 'job.succeeded'];

export async function fanOut(ctx) {
  const counts = ctx.quick ? [200, 500] : [1000, 2000, 5000];
  const events = ctx.quick ? 10 : 40;
  const servers = await ctx.socketServers();
  const rows = [];
  for (const clients of counts) {
    try {
      for (const { target, server } of servers) {
        const ms = await ctx.pool.connect(`fanout ${target}`, {
          kind: target === 'ws' ? 'ws' : 'socketio',
          url: server.url,
          count: clients,
          report: COUNTED,
          counted: COUNTED,
        });
        ctx.log(`fan-out: ${clients} clients connected to ${target} in ${Math.round(ms)} ms`);
      }
      const latencies = new Map(servers.map(({ target }) => [target, []]));
      for (let i = 0; i < WARM_UP + events; i++) {
        // Each round starts with the next server, so that none always goes first.
        for (let j = 0; j < servers.length; j++) {
          const { target, server } = servers[(i + j) % servers.length];
          const ms = await fanOutOnce(ctx.pool, `fanout ${target}`, server.url, NOOP_JOBS[i % NOOP_JOBS.length]);
          if (i >= WARM_UP) latencies.get(target).push(ms);
        }
      }
      for (const { target } of servers) {
        await expectEveryEvent(ctx.pool, `fanout ${target}`, 2 * (WARM_UP + events));
      }
      const [jobpulse, socketIo, ws] = [...latencies.values()].map(summary);
      rows.push({ clients, jobpulse, socketIo, ws });
      ctx.log(
        `fan-out ${clients}: p50 ${round(jobpulse.median)} / ${round(socketIo.median)} / ${round(ws.median)} ms, ` +
          `p99 ${round(jobpulse.p99)} / ${round(socketIo.p99)} / ${round(ws.p99)} ms (jobpulse / socket.io / ws)`,
      );
    } finally {
      for (const { target } of servers) await ctx.pool.close(`fanout ${target}`);
    }
  }
  return rows;
}

/**
 * jobpulse, the bare socket.io server and the bare ws floor, started together: fan-out and
 * throughput measure them side by side (each with its own clients, closed after each figure), and
 * the REST figure measures this jobpulse.
 */
export async function startSocketServers(ctx) {
  const jobpulse = await startJobpulse(ctx.sqliteUrl('sockets'));
  const payloads = await ctx.payloads(jobpulse);
  return [
    { target: 'jobpulse', server: jobpulse },
    { target: 'socket.io', server: await startBareSocketIo(payloads) },
    { target: 'ws', server: await startBareWs(payloads) },
  ];
}

/** Triggers `job` and resolves with the time until every socket held its job.started, then waits for job.succeeded. */
async function fanOutOnce(pool, target, url, job) {
  const sent = performance.now();
  const runId = await trigger(url, job);
  const held = await pool.allHold(target, `job.started:${runId}`);
  await pool.allHold(target, `job.succeeded:${runId}`);
  return held - sent;
}

/** Fails the figure unless every socket of `target` got exactly `expected` events and none was dropped. */
export async function expectEveryEvent(pool, target, expected) {
  const tally = await pool.tally(target);
  if (tally.min !== expected || tally.max !== expected || tally.dropped > 0) {
    throw new Error(
      `${target}: lost events: each of ${tally.sockets} sockets should hold ${expected} events, ` +
        `they hold ${tally.min} to ${tally.max}; ${tally.dropped} sockets dropped`,
    );
  }
}
