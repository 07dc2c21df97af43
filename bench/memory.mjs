// 3. Memory: resident memory each connected, subscribed, idle client adds to the server. Each
// round starts each server afresh, warms it up (a few clients, a few events), reads its resident
// set size, connects N clients, lets it settle and reads it again. jobpulse against the bare
// socket.io server, with the bare ws server as the floor, in alternating order.
import { setTimeout as sleep } from 'node:timers/promises';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { residentBytes } from './processes.mjs';
import { median } from './stats.mjs';
import { startBareSocketIo, startBareWs, startJobpulse, trigger } from './targets.mjs';

const WARM_UP_CLIENTS = 10;

export async function memory(ctx) {
  const clients = ctx.quick ? 500 : 5000;
  const rounds = ctx.quick ? 1 : 3;
  const settleMs = ctx.quick ? 1000 : 3000;
  const payloads = await ctx.payloads();
  const starters = [
    ['jobpulse', (round) => startJobpulse(ctx.sqliteUrl(`memory-${round}`))],
    ['socket.io', () => startBareSocketIo(payloads)],
    // The floor only in a full run: a quick one stays short.
    ...(ctx.quick ? [] : [['ws', () => startBareWs(payloads)]]),
  ];
  const perClient = new Map(starters.map(([target]) => [target, []]));
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < starters.length; j++) {
      const [target, start] = starters[(round + j) % starters.length];
      const server = await start(round);
      const kind = target === 'ws' ? 'ws' : 'socketio';
      try {
        await ctx.pool.connect(`memory warm-up ${target}`, {
          kind,
          url: server.url,
          count: WARM_UP_CLIENTS,
          report: ['job.succeeded'],
        });
        for (const job of NOOP_JOBS) {
          await ctx.pool.allHold(`memory warm-up ${target}`, `job.succeeded:${await trigger(server.url, job)}`);
        }
        await ctx.pool.close(`memory warm-up ${target}`);
        await sleep(settleMs);
        const before = await residentBytes(server.pid);
        await ctx.pool.connect(`memory ${target}`, { kind, url: server.url, count: clients });
        await sleep(settleMs);
        const after = await residentBytes(server.pid);
        await ctx.pool.close(`memory ${target}`);
        perClient.get(target).push((after - before) / clients);
        ctx.log(`memory ${target}: ${((after - before) / clients / 1024).toFixed(1)} KiB per client`);
      } finally {
        await server.stop();
      }
    }
  }
  const [jobpulse, socketIo, ws = null] = [...perClient.values()].map(median);
  return { clients, jobpulse, socketIo, ws, rounds: Object.fromEntries(perClient) };
}
