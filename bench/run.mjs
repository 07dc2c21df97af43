// `npm run bench`: every figure of docs/benchmarks.md, each measured alternately with its baseline
// in this one run, on the production build (npm run bench builds first). Servers and clients run
// in processes of their own on loopback; this process only drives them and keeps time.
//
//   npm run bench                      the full run (see docs/benchmarks.md for how long it takes)
//   npm run bench -- --quick           smaller sizes and shorter rounds: the CI smoke test
//   npm run bench -- --only=fanout,rest   some figures only
//
// Writes bench/results.json and prints a Markdown table with each figure's target. Exits 1 only
// when something broke (a lost event, a missed tick, a crash, a failed request): a missed target
// is reported, not fatal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import prettier from 'prettier';
import { io } from 'socket.io-client';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { bigDatabase } from './big-database.mjs';
import { ClientPool } from './client-pool.mjs';
import { cluster } from './cluster.mjs';
import { fanOut, startSocketServers } from './fanout.mjs';
import { memory } from './memory.mjs';
import { startPostgres } from './postgres.mjs';
import { crashesSoFar, killAll, ROOT, snapshotBuild } from './processes.mjs';
import { rest } from './rest.mjs';
import { scheduleLagSqlite } from './schedule-lag.mjs';
import { markdownTable, rowsOf } from './table.mjs';
import { throughput } from './throughput.mjs';
import { startJobpulse, trigger } from './targets.mjs';

const FIGURES = {
  fanout: fanOut,
  throughput,
  rest,
  memory,
  lag: scheduleLagSqlite,
  cluster,
  'big-database': bigDatabase,
};
/** Figures that share the socket servers (see startSocketServers), stopped once the last of them is done. */
const ON_SOCKET_SERVERS = ['fanout', 'throughput', 'rest'];
/** Figures a quick run measures at the same time, to stay short: its figures are a smoke test. */
const TOGETHER_WHEN_QUICK = [['lag', 'cluster']];
const CLIENT_PROCESSES = 2;

const { values: options } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const selected = options.only ? options.only.split(',') : Object.keys(FIGURES);
for (const name of selected) {
  if (!FIGURES[name]) throw new Error(`--only: no figure "${name}" (${Object.keys(FIGURES).join(', ')})`);
}

const startedAt = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'jobpulse-bench-'));
const log = (message) => console.log(`[${((performance.now() - startedAt) / 1000).toFixed(1)} s] ${message}`);
process.on('exit', () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
snapshotBuild();

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryMiB: Math.round(totalmem() / 2 ** 20),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  loadAverageAtStart: loadavg().map((load) => Math.round(load * 100) / 100),
};
log(`${options.quick ? 'quick run' : 'full run'} on ${JSON.stringify(machine)}`);

let postgres;
const ctx = {
  quick: options.quick,
  pool: await ClientPool.start(CLIENT_PROCESSES),
  dir,
  log,
  /** A SQLite URL for a new file in the run's temporary folder. */
  sqliteUrl: (name) => `sqlite:${join(dir, `${name}.db`)}`,
  /** The run's PostgreSQL server, started when first asked for (see postgres.mjs). */
  postgres: () => (postgres ??= startPostgres(dir)),
};
let payloads;
/**
 * The events of one run of a no-op job, taken once (from `jobpulse`, a server under test, when
 * given), for the bare servers to send the same bytes.
 */
ctx.payloads = (jobpulse) => (payloads ??= capturePayloads(jobpulse));
let socketServers;
ctx.socketServers = () => (socketServers ??= startSocketServers(ctx));

const results = {};
const failures = [];
const steps = stepsOf(selected);
for (const step of steps) {
  await Promise.all(
    step.map(async (name) => {
      log(`${name}: start`);
      try {
        results[name] = await FIGURES[name](ctx);
      } catch (error) {
        const cause = error.cause ? `\ncause: ${error.cause.stack ?? error.cause}` : '';
        failures.push(`${name}: ${error.stack ?? error}${cause}`);
        log(`${name}: FAILED: ${error.stack ?? error}${cause}`);
      }
    }),
  );
  for (const crash of crashesSoFar.drain()) failures.push(`${crash.name} exited (${crash.code}):\n${crash.stderr}`);
  const usedLater = steps
    .slice(steps.indexOf(step) + 1)
    .flat()
    .some((name) => ON_SOCKET_SERVERS.includes(name));
  if (socketServers && !usedLater) {
    for (const { server } of await socketServers) await server.stop();
    socketServers = undefined;
  }
}
ctx.pool.stop();
if (postgres) await (await postgres).stop?.();

const rows = rowsOf(results);
const seconds = Math.round((performance.now() - startedAt) / 1000);
const report = {
  generatedAt: new Date().toISOString(),
  quick: options.quick,
  seconds,
  machine,
  rows,
  results,
  failures,
};
// Formatted as `npm run format:check` wants it, since the full run's file is committed.
const resultsFile = resolve(ROOT, 'bench/results.json');
const prettierOptions = { ...(await prettier.resolveConfig(resultsFile)), filepath: resultsFile };
writeFileSync(resultsFile, await prettier.format(JSON.stringify(report, null, 2), prettierOptions));
console.log(`\n${markdownTable(rows)}\n`);
const missed = rows.filter((r) => r.result === 'miss').length;
log(`done in ${seconds} s: ${rows.length} figures, ${missed} targets missed; bench/results.json written`);
if (failures.length > 0) console.error(`\nBROKEN:\n${failures.join('\n\n')}`);
// Whatever a failed figure left behind (a timer, a socket) must not keep the run going.
process.exit(failures.length > 0 ? 1 : 0);

/** The figures in order, one at a time; in a quick run, those of TOGETHER_WHEN_QUICK at once. */
function stepsOf(names) {
  const steps = [];
  for (const name of names) {
    const group = options.quick && TOGETHER_WHEN_QUICK.find((together) => together.includes(name));
    const step = group && steps.find((earlier) => earlier.some((other) => group.includes(other)));
    if (step) step.push(name);
    else steps.push([name]);
  }
  return steps;
}

/** The job.started and job.succeeded events of one jobpulse run, for the bare servers to send. */
async function capturePayloads(jobpulse) {
  const server = jobpulse ?? (await startJobpulse(ctx.sqliteUrl('payloads')));
  const { url } = server;
  const socket = io(url, { transports: ['websocket'], reconnection: false });
  try {
    const events = [];
    socket.on('event', (event) => events.push(event));
    await socket.emitWithAck('subscribe', { topics: ['jobs'] });
    const runId = await trigger(url, NOOP_JOBS[0]);
    const of = (type) => events.find((event) => event.type === type && event.data.runId === runId);
    while (!of('job.succeeded')) await new Promise((resolveLater) => setTimeout(resolveLater, 10));
    return { started: of('job.started'), succeeded: of('job.succeeded') };
  } finally {
    socket.disconnect();
    if (!jobpulse) await server.stop();
  }
}
