// 6. A busy history: start-up to readiness with an empty database and with a million runs (seeded
// straight into the SQLite file), listing runs at that size, and the daily report and the cleanup
// over a million runs, each with the longest the event loop was held meanwhile.
//
// The seeded runs belong to a dozen jobs ticking every second, all within the report's period
// (the last day: with no earlier report, the daily report covers the 24 hours before it). For the
// cleanup, a second file holds as many runs, all past RUN_RETENTION_DAYS (30 days). The start-up
// report is off (REPORT_ON_STARTUP=false), so that start-up and the report are measured apart.
//
// The event loop's longest delay is read two ways: from outside, the longest round trip of
// GET /health/live sent every 10 ms, one at a time (what any request or socket waited); and from
// inside, jobpulse_nodejs_eventloop_lag_max_seconds in GET /metrics (monitorEventLoopDelay, reset
// at each read), read just before the trigger and once the run has ended.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOOP_JOBS, TICK_JOB } from './bench-jobs.mjs';
import { requestJson } from './processes.mjs';
import { seededRunsLeft, seedRuns } from './seed-runs.mjs';
import { median, summary } from './stats.mjs';
import { startBareNest, startJobpulse, trigger } from './targets.mjs';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Declared jobs (their runs can be listed) and retired ones, as a long-lived service has. */
const SEEDED_JOBS = [...NOOP_JOBS, TICK_JOB, ...Array.from({ length: 7 }, (_, i) => `retired-job-${i + 1}`)];
const LISTED_JOB = NOOP_JOBS[0];
const LISTINGS = 30;
const PING_EVERY_MS = 10;

export async function bigDatabase(ctx) {
  const runs = ctx.quick ? 100_000 : 1_000_000;
  const rounds = ctx.quick ? 1 : 3;
  const capMs = ctx.quick ? 30_000 : 300_000;
  const result = { runs };

  // The first start on an empty database migrates it: copies of that file are what gets seeded.
  const startUp = { empty: [], seeded: [], bareNest: [] };
  const template = ctx.sqliteUrl('big-template');
  await measureStartUp(startUp.empty, template);
  const lastFireMs = Date.now() - 60_000;
  const recent = seededCopy(ctx, template, 'recent', { count: runs, jobs: SEEDED_JOBS, lastFireMs });
  result.seedSeconds = recent.seconds;

  const fixture = join(ctx.dir, 'startup-fixture.json');
  writeFileSync(fixture, JSON.stringify({ jobs: [], runs: [] }));
  let server;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) await measureStartUp(startUp.empty, ctx.sqliteUrl(`startup-empty-${round}`));
    // The floor only in a full run: a quick one stays short.
    if (!ctx.quick) {
      const nest = await startBareNest(fixture);
      startUp.bareNest.push(nest.readyMs);
      await nest.stop();
    }
    server = await startJobpulse(recent.url);
    startUp.seeded.push(server.readyMs);
    if (round < rounds - 1) await server.stop();
  }
  result.startUp = {
    empty: median(startUp.empty),
    seeded: median(startUp.seeded),
    bareNest: startUp.bareNest.length > 0 ? median(startUp.bareNest) : null,
    rounds: startUp,
  };
  ctx.log(`start-up: ${JSON.stringify(result.startUp)}`);

  try {
    // Halfway back through the seeded history: a page the index must seek to.
    const middle = new Date(lastFireMs - (runs / SEEDED_JOBS.length / 2) * 1000).toISOString();
    result.listing = {
      firstPage: await timed(`${server.url}/api/jobs/${LISTED_JOB}/runs?limit=50`),
      middlePage: await timed(`${server.url}/api/jobs/${LISTED_JOB}/runs?limit=50&before=${middle}`),
      jobs: await timed(`${server.url}/api/jobs`),
    };
    ctx.log(`listing at ${runs} runs: ${JSON.stringify(result.listing)}`);
    result.report = await runWatched(ctx, server, 'daily-report', capMs);
    if (result.report.finished) result.report.runsCounted = await runsInNewestReport(server.url);
    ctx.log(`daily report over ${runs} runs: ${JSON.stringify(result.report)}`);
  } finally {
    await server.stop();
  }

  const expired = seededCopy(ctx, template, 'expired', {
    count: runs,
    jobs: SEEDED_JOBS,
    lastFireMs: Date.now() - 31 * DAY_MS,
  });
  server = await startJobpulse(expired.url);
  try {
    result.cleanup = await runWatched(ctx, server, 'cleanup', capMs);
  } finally {
    await server.stop();
  }
  result.cleanup.expiredRunsLeft = seededRunsLeft(expired.file);
  ctx.log(`cleanup of ${runs} expired runs: ${JSON.stringify(result.cleanup)}`);
  return result;
}

async function measureStartUp(times, databaseUrl) {
  const server = await startJobpulse(databaseUrl);
  times.push(server.readyMs);
  await server.stop();
}

/** A copy of the migrated `template` database, seeded. */
function seededCopy(ctx, template, name, seeding) {
  const url = ctx.sqliteUrl(`big-${name}`);
  const file = url.slice('sqlite:'.length);
  copyFileSync(template.slice('sqlite:'.length), file);
  const started = performance.now();
  seedRuns(file, seeding);
  const seconds = (performance.now() - started) / 1000;
  ctx.log(`seeded ${seeding.count} ${name} runs in ${seconds.toFixed(1)} s`);
  return { url, file, seconds };
}

/** Median and p99 of LISTINGS sequential GETs of `url`, in ms. */
async function timed(url) {
  const times = [];
  for (let i = 0; i < LISTINGS; i++) {
    const started = performance.now();
    await requestJson(url);
    times.push(performance.now() - started);
  }
  return summary(times);
}

/**
 * Triggers `job` and waits for its run to end, pinging /health/live meanwhile. Resolves with the
 * run's duration, its status and the event loop's longest delay seen both ways; a run still going
 * after `capMs` is reported unfinished (and the server killed: its loop may be held for good).
 */
async function runWatched(ctx, server, job, capMs) {
  await lagMaxMs(server.url); // reads, so resets, the in-process maximum
  const ping = pinger(server.url);
  const started = performance.now();
  let run, elapsedMs, healthMaxMs;
  try {
    const runId = await trigger(server.url, job);
    for (;;) {
      const left = capMs - (performance.now() - started);
      run = await requestJson(`${server.url}/api/runs/${runId}`, { timeoutMs: Math.max(1000, Math.round(left)) });
      if (!['queued', 'running'].includes(run.status)) break;
      if (performance.now() - started > capMs) break;
      await sleep(100);
    }
  } catch (error) {
    if (error.name !== 'TimeoutError') throw error;
  } finally {
    elapsedMs = performance.now() - started;
    healthMaxMs = await ping.stop();
  }
  if (!run || ['queued', 'running'].includes(run.status)) {
    await server.kill();
    return { finished: false, capMs, elapsedMs, healthMaxMs };
  }
  return {
    finished: true,
    status: run.status,
    durationMs: run.durationMs,
    healthMaxMs,
    lagMaxMs: await lagMaxMs(server.url),
  };
}

/** The runs the newest report counted, over all jobs: it must have read every seeded run. */
async function runsInNewestReport(url) {
  const [newest] = await requestJson(`${url}/api/reports?limit=1`);
  const { content } = await requestJson(`${url}/api/reports/${newest.id}`);
  return content.jobs.reduce((sum, job) => sum + job.runs.total, 0);
}

/** GET /health/live every PING_EVERY_MS, one at a time; stop() resolves with the longest round trip (ms). */
function pinger(url) {
  let stopped = false;
  let longest = 0;
  let current;
  const loop = (async () => {
    while (!stopped) {
      current = performance.now();
      try {
        await fetch(`${url}/health/live`).then((response) => response.arrayBuffer());
      } catch {
        // the server was killed mid-request: its round trip is counted below
      }
      longest = Math.max(longest, performance.now() - current);
      current = undefined;
      await sleep(PING_EVERY_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      // A request still waiting counts for as long as it has waited.
      const waiting = current === undefined ? 0 : performance.now() - current;
      await Promise.race([loop, sleep(1000)]);
      return Math.max(longest, waiting);
    },
  };
}

/** jobpulse_nodejs_eventloop_lag_max_seconds, in ms: the longest delay since the previous read; null when absent. */
async function lagMaxMs(url) {
  const text = await fetch(`${url}/metrics`).then((response) => response.text());
  const match = /^jobpulse_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : null;
}
