// Daily report benchmark: how long the operations report takes over N runs
// started in its period, and the event loop's longest delay while it runs.
// Runs the built generator (npm run build first) in this process against a
// temporary SQLite file, or the database of BENCH_DATABASE_URL (an empty
// PostgreSQL database: its runs and events are replaced for each size).
// Run it with node --expose-gc, so that the seed's garbage is collected before
// each report rather than charged to it.
//   BENCH_REPORT_RUNS     sizes, comma-separated (10000,30000,100000)
//   BENCH_REPORT_JOBS     jobs the runs are spread over (12: a dozen every-second jobs)
//   BENCH_REPORT_HISTORY  days before the period, each with as many runs, still kept (0)
//   BENCH_REPORT_EVENTS   events per run of the period, e.g. job.started and job.succeeded (2)
//   BENCH_REPORT_ROUNDS   reports per size; the table shows the median time and the largest delay (3)
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, migrateToLatest } from '../dist/database/database.js';
import { EventsRepository } from '../dist/database/events.repository.js';
import { RunsRepository } from '../dist/database/runs.repository.js';
import { OperationsReportGenerator } from '../dist/reports/operations-report.generator.js';

const SIZES = (process.env.BENCH_REPORT_RUNS ?? '10000,30000,100000').split(',').map(Number);
const JOBS = Number(process.env.BENCH_REPORT_JOBS ?? 12);
const HISTORY = Number(process.env.BENCH_REPORT_HISTORY ?? 0);
const EVENTS_PER_RUN = Number(process.env.BENCH_REPORT_EVENTS ?? 2);
const ROUNDS = Number(process.env.BENCH_REPORT_ROUNDS ?? 3);
const PERIOD_START = Date.parse('2025-01-01T07:00:00.000Z');
const DAY_MS = 86_400_000;
// One in ten runs fails in some way, one in ten is skipped (the job was still busy), as on a busy day.
const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'skipped'];
const FAILURES = ['failed', 'timed_out', 'interrupted', 'abandoned'];

function runRow(index, count, dayOffset) {
  const startedAt = new Date(PERIOD_START + dayOffset * DAY_MS + Math.floor((index * DAY_MS) / count)).toISOString();
  const status = index % 10 === 9 ? FAILURES[((index / 10) % 4) | 0] : STATUSES[index % STATUSES.length];
  const durationMs = status === 'abandoned' ? null : status === 'skipped' ? 0 : (index * 7919) % 5000;
  return {
    id: `run-${dayOffset}-${index}`,
    job: `job-${String(index % JOBS).padStart(2, '0')}`,
    trigger: 'schedule',
    status,
    scheduled_for: startedAt,
    started_at: startedAt,
    finished_at: startedAt,
    duration_ms: durationMs,
    error: status === 'succeeded' || status === 'skipped' ? null : `run ${index} went wrong`,
  };
}

async function insertInBatches(db, table, rows) {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto(table)
      .values(rows.slice(i, i + 1000))
      .execute();
}

async function seed(db, count) {
  await db.deleteFrom('runs').execute();
  await db.deleteFrom('events').execute();
  await db.transaction().execute(async (trx) => {
    for (let day = -HISTORY; day <= 0; day += 1) {
      const rows = Array.from({ length: count }, (_, index) => runRow(index, count, day));
      await insertInBatches(trx, 'runs', rows);
    }
    const events = Array.from({ length: count * EVENTS_PER_RUN }, (_, index) => ({
      topic: index % 50 === 49 ? 'system' : 'jobs',
      type: 'job.succeeded',
      at: new Date(PERIOD_START + Math.floor((index * DAY_MS) / (count * EVENTS_PER_RUN))).toISOString(),
      data: '{}',
    }));
    await insertInBatches(trx, 'events', events);
  });
}

async function measure(generator) {
  globalThis.gc?.();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Its timer starts on the next turn of the loop: a block before then would go unseen.
  await sleep(20);
  const started = performance.now();
  await generator.generate({
    runId: 'bench',
    periodStart: new Date(PERIOD_START),
    periodEnd: new Date(PERIOD_START + DAY_MS),
    signal: new AbortController().signal,
  });
  const ms = performance.now() - started;
  // The monitor records a delay when its timer fires late: let it fire once after a block that lasted to the end.
  await sleep(10);
  delay.disable();
  return { ms, maxDelayMs: delay.max / 1e6 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'jobpulse-bench-report-'));
const url = process.env.BENCH_DATABASE_URL || `sqlite:${join(dir, 'bench.db')}`;
console.log(`database: ${url.split(':')[0]}, ${JOBS} jobs, ${HISTORY} days of history, ${EVENTS_PER_RUN} events a run`);
const db = createDatabase(url);
try {
  await migrateToLatest(db);
  const generator = new OperationsReportGenerator(new RunsRepository(db), new EventsRepository(db), {
    takePeak: () => 0,
  });
  const rows = [];
  for (const count of SIZES) {
    await seed(db, count);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round += 1) rounds.push(await measure(generator));
    const row = {
      runs: count,
      reportMs: Math.round(median(rounds.map((r) => r.ms))),
      maxLoopDelayMs: Math.round(Math.max(...rounds.map((r) => r.maxDelayMs))),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  console.table(rows);
} finally {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
