// Cleanup benchmark: how long the `cleanup` job takes to remove a backlog of
// expired runs, and the longest the event loop waited meanwhile (what a
// request, a socket or a lease renewal would have waited).
// Runs the built service in this process (npm run build first) on a fresh
// temporary SQLite file per size, or, with BENCH_POSTGRES_URL (an admin URL,
// e.g. postgres://postgres@127.0.0.1:5432/postgres), on a fresh PostgreSQL
// database per size. BENCH_CLEANUP_RUNS lists the sizes (expired runs);
// BENCH_CLEANUP_EVENTS adds that many expired events to each.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createApp } from '../dist/app.js';
import { loadEnv } from '../dist/config/env.js';
import { DATABASE } from '../dist/database/database.js';
import { CleanupJob } from '../dist/jobs/builtin/cleanup.job.js';

const SIZES = (process.env.BENCH_CLEANUP_RUNS ?? '100000,300000').split(',').map(Number);
const EXPIRED_EVENTS = Number(process.env.BENCH_CLEANUP_EVENTS ?? 0);
const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL;
const DAY_MS = 24 * 60 * 60 * 1000;
// With the default retention (runs 30 days, events 24 hours), spread over the 60 days before it.
const RUN_CUTOFF_MS = Date.now() - 30 * DAY_MS;
const FRESH_RUNS = 10_000;
const RUNNING_RUNS = 10;
const INSERT_ROWS = 1_000;

/** A fresh database URL for one size, and how to remove it. */
async function freshDatabase(size) {
  if (!POSTGRES_ADMIN_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'jobpulse-bench-cleanup-'));
    return {
      url: `sqlite:${join(dir, 'bench.db')}`,
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `jobpulse_bench_cleanup_${size}_${Date.now()}`;
  const admin = async (statement) => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), remove: () => admin(`drop database ${name} with (force)`) };
}

function run(startedAtMs, status, job = 'bench') {
  const startedAt = new Date(startedAtMs).toISOString();
  const running = status === 'running';
  return {
    id: randomUUID(),
    job,
    trigger: 'schedule',
    status,
    scheduled_for: startedAt,
    started_at: startedAt,
    finished_at: running ? null : startedAt,
    duration_ms: running ? null : 5,
    error: null,
    attempt: 1,
    max_attempts: 1,
    retry_of: null,
    lease_expires_at: running ? new Date(Date.now() + DAY_MS).toISOString() : null,
    node: 'bench',
    claim_key: null,
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
  await insertInChunks(db, 'runs', expiredRuns, (i) =>
    run(RUN_CUTOFF_MS - DAY_MS - (i * 60 * DAY_MS) / expiredRuns, 'succeeded'),
  );
  await insertInChunks(db, 'runs', FRESH_RUNS, (i) => run(Date.now() - (i * 29 * DAY_MS) / FRESH_RUNS, 'failed'));
  await insertInChunks(db, 'runs', RUNNING_RUNS, (i) => run(RUN_CUTOFF_MS - DAY_MS, 'running', `bench-running-${i}`));
  await insertInChunks(db, 'events', EXPIRED_EVENTS, (i) => ({
    topic: 'jobs',
    type: 'job.succeeded',
    at: new Date(Date.now() - 2 * DAY_MS + (i * DAY_MS) / EXPIRED_EVENTS).toISOString(),
    data: '{}',
  }));
}

const results = [];
for (const size of SIZES) {
  const database = await freshDatabase(size);
  const env = loadEnv({ LOG_LEVEL: 'error', REPORT_ON_STARTUP: 'false', DATABASE_URL: database.url });
  const app = await createApp({ env });
  await app.init();
  const db = app.get(DATABASE);
  await seed(db, size);

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

  const { left } = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll().as('left'))
    .executeTakeFirstOrThrow();
  results.push({
    database: database.url.split(':')[0],
    'expired runs': size,
    'expired events': EXPIRED_EVENTS,
    'runs left': Number(left),
    'cleanup ms': Math.round(ms),
    'longest loop delay ms': +(loopDelay.max / 1e6).toFixed(1),
    'idle: longest loop delay ms': +(idle.max / 1e6).toFixed(1),
    'progress reports': progressReports,
  });
  await app.close();
  await database.remove();
}
console.table(results);
