// 2. Throughput: events per second delivered to every one of 1,000 subscribed clients, with no
// event lost. Four trigger loops per server, each triggering a no-op job again once every client
// holds the last event of its previous run (job.succeeded): two events per trigger, paced by the
// slowest client, so nothing queues without bound. jobpulse against the bare socket.io server and
// the bare ws floor, in alternating rounds.
import { performance } from 'node:perf_hooks';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { expectEveryEvent } from './fanout.mjs';
import { median } from './stats.mjs';
import { trigger } from './targets.mjs';

const CLIENTS = 1000;
const COUNTED = ['job.started', 'job.succeeded'];

export async function throughput(ctx) {
  const rounds = ctx.quick ? 1 : 3;
  const roundMs = ctx.quick ? 5_000 : 10_000;
  // The floor only in a full run: a quick one stays short.
  const servers = (await ctx.socketServers()).filter(({ target }) => !ctx.quick || target !== 'ws');
  const rates = new Map(servers.map(({ target }) => [target, []]));
  try {
    for (const { target, server } of servers) {
      await ctx.pool.connect(`throughput ${target}`, {
        kind: target === 'ws' ? 'ws' : 'socketio',
        url: server.url,
        count: CLIENTS,
        report: ['job.succeeded'],
        counted: COUNTED,
      });
    }
    for (let round_ = 0; round_ < rounds; round_++) {
      for (let j = 0; j < servers.length; j++) {
        const { target, server } = servers[(round_ + j) % servers.length];
        const { triggers, ms } = await saturate(ctx.pool, `throughput ${target}`, server.url, roundMs);
        await expectEveryEvent(ctx.pool, `throughput ${target}`, 2 * triggers);
        await ctx.pool.reset(`throughput ${target}`);
        const perSecond = (2 * triggers * 1000) / ms;
        rates.get(target).push(perSecond);
        ctx.log(`throughput ${target}: ${Math.round(perSecond)} events/s to each of ${CLIENTS} clients`);
      }
    }
  } finally {
    for (const { target } of servers) await ctx.pool.close(`throughput ${target}`);
  }
  const [jobpulse, socketIo, ws = null] = [...rates.values()].map(median);
  return {
    clients: CLIENTS,
    seconds: (rounds * roundMs) / 1000,
    jobpulse,
    socketIo,
    ws,
    lost: 0,
    rounds: Object.fromEntries(rates),
  };
}

/** Runs the trigger loops for `ms`; resolves with the triggers whose events all clients hold, and the time taken. */
async function saturate(pool, target, url, ms) {
  const started = performance.now();
  const loops = NOOP_JOBS.map(async (job) => {
    let triggers = 0;
    while (performance.now() - started < ms) {
      const runId = await trigger(url, job);
      await pool.allHold(target, `job.succeeded:${runId}`);
      triggers++;
    }
    return triggers;
  });
  const triggers = (await Promise.all(loops)).reduce((sum, count) => sum + count, 0);
  return { triggers, ms: performance.now() - started };
}
