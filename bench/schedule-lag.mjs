// 5. Schedule lag: how late an every-second job starts, its run's startedAt minus its scheduledFor
// (the fire time), over consecutive ticks. Here on one replica on SQLite; bench/cluster.mjs
// measures it on three replicas on PostgreSQL. The job is bench-tick with BENCH_TICK_CRON, its
// <JOB_NAME>_CRON variable. Every fire time must have exactly one run: a missed or doubled tick
// fails the benchmark.
import { setTimeout as sleep } from 'node:timers/promises';
import { TICK_JOB } from './bench-jobs.mjs';
import { requestJson } from './processes.mjs';
import { summary } from './stats.mjs';
import { startJobpulse } from './targets.mjs';

/** The environment that makes bench-tick fire every second. */
export const TICKING = { BENCH_TICK_CRON: '* * * * * ?' };
/** The first ticks run while the replicas are still starting: not counted. */
const WARM_UP_TICKS = 2;

export const ticksOf = (ctx) => (ctx.quick ? 10 : 60);

export async function scheduleLagSqlite(ctx) {
  const server = await startJobpulse(ctx.sqliteUrl('schedule-lag'), { env: TICKING });
  try {
    return { ticks: ticksOf(ctx), ...(await measureLag(ctx, [server], ticksOf(ctx))) };
  } finally {
    await server.stop();
  }
}

/** Waits for `ticks` runs of bench-tick after the warm-up, on replicas started with TICKING, and sums up their lag. */
export async function measureLag(ctx, replicas, ticks) {
  const wanted = WARM_UP_TICKS + ticks;
  let runs = [];
  const deadline = Date.now() + (wanted + 30) * 1000;
  while (runs.length < wanted + 1) {
    if (Date.now() > deadline) throw new Error(`only ${runs.length} runs of ${TICK_JOB} within ${wanted + 30} s`);
    await sleep(1000);
    runs = (await requestJson(`${replicas[0].url}/api/jobs/${TICK_JOB}/runs?limit=500`)).filter(
      (run) => run.trigger === 'schedule',
    );
  }
  // Newest first; the newest may still be starting on another replica: leave it out.
  const measured = runs.slice(1, ticks + 1).reverse();
  const fireTimes = measured.map((run) => Date.parse(run.scheduledFor));
  for (let i = 1; i < fireTimes.length; i++) {
    if (fireTimes[i] - fireTimes[i - 1] !== 1000) {
      throw new Error(
        `${TICK_JOB}: fire times ${measured[i - 1].scheduledFor} then ${measured[i].scheduledFor}: a tick was missed or run twice`,
      );
    }
  }
  const lags = measured.map((run) => Date.parse(run.startedAt) - Date.parse(run.scheduledFor));
  const byReplica = {};
  for (const run of measured) byReplica[run.node] = (byReplica[run.node] ?? 0) + 1;
  const result = { replicas: replicas.length, ...summary(lags), max: Math.max(...lags), byReplica };
  ctx.log(`schedule lag on ${replicas.length} replica(s): ${JSON.stringify(result)}`);
  return result;
}
