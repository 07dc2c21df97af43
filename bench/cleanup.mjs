// Cleanup benchmark: how long the `cleanup` job takes to remove a backlog of
// expired runs, and the longest the event loop waited meanwhile (what a
// request, a socket or a lease renewal would have waited).
// Runs the built service in this process (npm run build first; BENCH_DIST names
// another build) on a fresh temporary SQLite file per size, or, with
// BENCH_POSTGRES_URL (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres),
// on a fresh PostgreSQL database per size. BENCH_CLEANUP_RUNS lists the sizes
// (expired runs); BENCH_CLEANUP_EVENTS adds that many expired events to each;
// BENCH_CLEANUP_BATCH lists batch sizes to compare instead of the dialect's own
// (each size is measured with each, alternately, BENCH_CLEANUP_ROUNDS times,
// on copies of one seeded database).
// The runs are seeded as the service writes them: version 7 ids in the order of
// their start, a dozen jobs, durations of 5 to 504 ms and a claim per tick.
import 'reflect-metadata';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { BUILD } from './processes.mjs';

const built = (path) => import(pathToFileURL(join(BUILD, path)).href);
const { createApp } = await built('app.js');
const { loadEnv } = await built('config/env.js');
const { TimeOrderedIds } = await built('common/time-ordered-id.js');
const { DATABASE } = await built('database/database.js');
const { RetentionRepository } = await built('database/retention.repository.js');
const { CleanupJob } = await built('jobs/builtin/cleanup.job.js');

const SIZES = (process.env.BENCH_CLEANUP_RUNS ?? '100000,300000').split(',').map(Number);
const EXPIRED_EVENTS = Number(process.env.BENCH_CLEANUP_EVENTS ?? 0);
const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL;
const ROUNDS = Number(process.env.BENCH_CLEANUP_ROUNDS ?? 1);
const BATCHES = process.env.BENCH_CLEANUP_BATCH?.split(',').map(Number) ?? [undefined];
const JOBS = Array.from({ length: 12 }, (_, i) => `bench-${i + 1}`);
const DAY_MS = 24 * 60 * 60 * 1000;
// With the default retention (runs 30 days, events 24 hours), spread over the 60 days before it.
const RUN_CUTOFF_MS = Date.now() - 30 * DAY_MS;
const FRESH_RUNS = 10_000;
const RUNNING_RUNS = 10;
const INSERT_ROWS = 1_000;

/** A fresh database for one size, a copy of it for each measurement, and how to remove either. */
async function freshDatabase(size) {
  if (!POSTGRES_ADMIN_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'jobpulse-bench-cleanup-'));
    const file = join(dir, 'seeded.db');
    let copies = 0;
    return {
      url: `sqlite:${file}`,
      copy: async () => {
        const copy = join(dir, `copy-${(copies += 1)}.db`);
        copyFileSync(file, copy);
        return { url: `sqlite:${copy}`, remove: async () => rmSync(copy, { force: true }) };
      },
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const admin = async (statement) => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  const urlOf = (name) => {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const name = `jobpulse_bench_cleanup_${size}_${Date.now()}`;
  await admin(`create database ${name}`);
  let copies = 0;
  return {
    url: urlOf(name),
    copy: async () => {
      const copy = `${name}_${(copies += 1)}`;
      await admin(`create database ${copy} template ${name}`);
      return { url: urlOf(copy), remove: () => admin(`drop database ${copy} with (force)`) };
    },
    remove: () => admin(`drop database ${name} with (force)`),
  };
}

/** A started app on `url`, which `run` is given, closed after. */
async function withApp(url, run) {
  const app = await createApp({ env: loadEnv({ LOG_LEVEL: 'error', REPORT_ON_STARTUP: 'false', DATABASE_URL: url }) });
  await app.init();
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

/** Ids made at each run's start, as the runner makes them: seed runs in the order they started. */
let seededAtMs = 0;
const ids = new TimeOrderedIds(() => seededAtMs);

function run(i, startedAtMs, status, job = JOBS[i % JOBS.length]) {
  const startedAt = new Date(startedAtMs).toISOString();
  const running = status === 'running';
  const durationMs = 5 + ((i * 7919) % 500);
  seededAtMs = startedAtMs;
  return {
    id: ids.next(),
    job,
    trigger: 'schedule',
    status,
    scheduled_for: startedAt,
    started_at: startedAt,
    finished_at: running ? null : new Date(startedAtMs + durationMs).toISOString(),
    duration_ms: running ? null : durationMs,
    error: null,
    attempt: 1,
    max_attempts: 1,
    retry_of: null,
    lease_expires_at: running ? new Date(Date.now() + DAY_MS).toISOString() : null,
    node: 'bench',
    claim_key: `${job}@${startedAt}`,
  };
}

async function insertInChunks(db, table, count, rowAt) {
  await db.transaction().execute(async (trx) => {
    for (let from = 0; from < count; from += INSERT_ROWS) {
      const rows = [];
      for (let i = from; i < Math.min(count, from + INSERT_ROWS); i += 1) rows.push(rowAt(i));
      await trx.insertInto(table).values(rows).execute();
    }
  });
}

async function seed(db, expiredRuns) {
  // Over the 60 days before the cutoff's eve, oldest first; then the young ones; then old running ones, which stay.
  const expiredFrom = RUN_CUTOFF_MS - 61 * DAY_MS;
  await insertInChunks(db, 'runs', expiredRuns, (i) =>
    run(i, expiredFrom + Math.floor((i * 60 * DAY_MS) / expiredRuns), 'succeeded'),
  );
  const freshFrom = Date.now() - 29 * DAY_MS;
  await insertInChunks(db, 'runs', FRESH_RUNS, (i) =>
    run(i, freshFrom + Math.floor((i * 29 * DAY_MS) / FRESH_RUNS), 'failed'),
  );
  await insertInChunks(db, 'runs', RUNNING_RUNS, (i) =>
    run(i, RUN_CUTOFF_MS - DAY_MS, 'running', `bench-running-${i}`),
  );
  await insertInChunks(db, 'events', EXPIRED_EVENTS, (i) => ({
    topic: 'jobs',
    type: 'job.succeeded',
    at: new Date(Date.now() - 2 * DAY_MS + (i * DAY_MS) / EXPIRED_EVENTS).toISOString(),
    data: '{}',
  }));
}

/** Runs the cleanup on `app`, batches of `batchRows` (the dialect's own when undefined): its time and the loop's longest delay. */
async function measure(app, size, batchRows) {
  const retention = app.get(RetentionRepository);
  if (batchRows) retention.batchRows = batchRows;
  let progressReports = 0;
  const context = {
    runId: 'bench-cleanup',
    job: 'cleanup',
    trigger: 'manual',
    attempt: 1,
    signal: new AbortController().signal,
    progress: async () => void (progressReports += 1),
  };
  // The floor: what the loop waits on this machine while the process does nothing (other processes, the collector).
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await sleep(2_000);
  idle.disable();

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await sleep(20); // its timer starts on the loop's next turn
  const started = performance.now();
  await app.get(CleanupJob).run(context);
  const ms = performance.now() - started;
  // The histogram records a delay when its timer finally fires: give it the turn a blocked loop owed it.
  await sleep(50);
  loopDelay.disable();

  const { left } = await app
    .get(DATABASE)
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll().as('left'))
    .executeTakeFirstOrThrow();
  return {
    database: POSTGRES_ADMIN_URL ? 'postgres' : 'sqlite',
    'expired runs': size,
    'expired events': EXPIRED_EVENTS,
    'rows a batch': retention.batchRows,
    'runs left': Number(left),
    'cleanup ms': Math.round(ms),
    'longest loop delay ms': +(loopDelay.max / 1e6).toFixed(1),
    'idle: longest loop delay ms': +(idle.max / 1e6).toFixed(1),
    'progress reports': progressReports,
  };
}

const results = [];
for (const size of SIZES) {
  const database = await freshDatabase(size);
  try {
    await withApp(database.url, (app) => seed(app.get(DATABASE), size));
    for (let round = 0; round < ROUNDS; round++) {
      for (const batchRows of BATCHES) {
        const copy = await database.copy();
        try {
          results.push(await withApp(copy.url, (app) => measure(app, size, batchRows)));
          console.log(JSON.stringify(results.at(-1)));
        } finally {
          await copy.remove();
        }
      }
    }
  } finally {
    await database.remove();
  }
}
console.table(results);
