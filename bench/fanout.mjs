// Event fan-out benchmark: how fast a published event reaches every subscribed
// socket.io client, and what each connected client costs in memory.
// Runs the built service in this process (npm run bench builds first) against
// a temporary SQLite file, or the database of BENCH_DATABASE_URL (e.g. an empty
// PostgreSQL database: with it, events also go through socket.io's PostgreSQL
// adapter); real socket.io clients over loopback. BENCH_CROSS_REPLICA=1 (with
// PostgreSQL) publishes through a second instance of the service on the same
// database, so every event reaches the clients' replica as a hint and a read.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import { createApp } from '../dist/app.js';
import { loadEnv } from '../dist/config/env.js';
import { NotifierService } from '../dist/notifier/notifier.service.js';
import { percentile } from '../dist/reports/operations-report.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const CLIENT_COUNTS = (process.env.BENCH_CLIENTS ?? '1,10,100').split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'jobpulse-bench-'));
const env = loadEnv({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'error',
  REPORT_ON_STARTUP: 'false',
  DATABASE_URL: process.env.BENCH_DATABASE_URL || `sqlite:${join(dir, 'bench.db')}`,
});
console.log(`database: ${env.DATABASE_URL.split(':')[0]}`);
const app = await createApp({ env });
await app.listen(0, '127.0.0.1');
const url = `http://127.0.0.1:${app.getHttpServer().address().port}`;
const publisher = process.env.BENCH_CROSS_REPLICA === '1' ? await createApp({ env }) : app;
if (publisher !== app) await publisher.listen(0, '127.0.0.1');
const notifier = publisher.get(NotifierService);
console.log(`events published through ${publisher === app ? 'the same instance' : 'another instance'}`);

async function connect(count) {
  const clients = [];
  for (let i = 0; i < count; i += 1) {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    await socket.emitWithAck('subscribe', { topics: ['jobs'] });
    clients.push(socket);
  }
  return clients;
}

function heapAfterGc() {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

// One unmeasured round first, so that lazy initialisation is not charged to the first row.
for (const socket of await connect(1)) socket.disconnect();

const results = [];
for (const count of CLIENT_COUNTS) {
  const heapBefore = heapAfterGc();
  const clients = await connect(count);
  const heapPerClient = (heapAfterGc() - heapBefore) / count;

  const latencies = [];
  const started = performance.now();
  for (let i = 0; i < EVENTS; i += 1) {
    const sentAt = performance.now();
    const delivered = Promise.all(clients.map((socket) => new Promise((resolve) => socket.once('event', resolve))));
    await notifier.publish('job.progress', {
      runId: 'bench',
      job: 'bench',
      percent: (i * 100) / EVENTS,
      message: null,
    });
    await delivered;
    latencies.push(performance.now() - sentAt);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  results.push({
    clients: count,
    events: EVENTS,
    'events/s': Math.round(EVENTS / seconds),
    'deliveries/s': Math.round((EVENTS * count) / seconds),
    'p50 ms': +percentile(latencies, 50).toFixed(2),
    'p99 ms': +percentile(latencies, 99).toFixed(2),
    'heap KiB/client': Math.round(heapPerClient / 1024),
  });
  clients.forEach((socket) => socket.disconnect());
}

console.table(results);
const [first, last] = [results[0], results.at(-1)];
console.log(
  `${last.clients} clients vs ${first.clients}: deliveries/s ×${(last['deliveries/s'] / first['deliveries/s']).toFixed(1)}, ` +
    `p50 latency ×${(last['p50 ms'] / first['p50 ms']).toFixed(1)}`,
);
if (publisher !== app) await publisher.close();
await app.close();
rmSync(dir, { recursive: true, force: true });
