// The servers the figures compare, each started in a process of its own.
import { resolve } from 'node:path';
import { JOBPULSE_ENV, jobpulseEntry, ROOT, requestJson, startServer } from './processes.mjs';

const bench = (file) => resolve(ROOT, 'bench', file);

/** jobpulse's production build with the benchmark's jobs (bench/jobpulse-server.mjs), on `databaseUrl`. */
export function startJobpulse(databaseUrl, { name = 'jobpulse', env = {} } = {}) {
  return startServer(name, jobpulseEntry(), { ...JOBPULSE_ENV, DATABASE_URL: databaseUrl, ...env });
}

/** `payloads`: `{ started, succeeded }`, the events of one jobpulse run (see bare-events.mjs). */
export function startBareSocketIo(payloads) {
  return startServer('bare socket.io', bench('bare-socketio-server.mjs'), { BENCH_PAYLOADS: JSON.stringify(payloads) });
}

export function startBareWs(payloads) {
  return startServer('bare ws', bench('bare-ws-server.mjs'), { BENCH_PAYLOADS: JSON.stringify(payloads) });
}

/** `fixture`: a JSON file holding `{ jobs, runs }` (see bare-rest.mjs). */
export function startBareNest(fixture) {
  return startServer('bare NestJS', bench('bare-nest-server.mjs'), { BENCH_REST_FIXTURE: fixture });
}

export function startBareExpress(fixture) {
  return startServer('bare Express', bench('bare-express-server.mjs'), { BENCH_REST_FIXTURE: fixture });
}

/**
 * POSTs a trigger of `job` and resolves with the run id, retrying while the job is busy (409:
 * the previous run of that job has published its last event but not yet freed its slot).
 */
export async function trigger(url, job) {
  for (let attempt = 1; ; attempt++) {
    try {
      const { runId } = await requestJson(`${url}/api/jobs/${job}/trigger`, { method: 'POST' });
      return runId;
    } catch (error) {
      if (error.status !== 409 || attempt >= 100) throw error;
      await new Promise((resolveLater) => setTimeout(resolveLater, 1));
    }
  }
}
