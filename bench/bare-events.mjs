// What the bare servers send for a trigger: the events jobpulse sent for one run of a no-op job
// (captured by the runner and handed over in BENCH_PAYLOADS), with a new run id, event ids and
// instants, so that each baseline broadcasts the same bytes jobpulse does.
import { randomUUID } from 'node:crypto';

const captured = JSON.parse(process.env.BENCH_PAYLOADS ?? 'null');
if (!captured?.started || !captured?.succeeded) throw new Error('BENCH_PAYLOADS must hold {started, succeeded}');
let nextId = 1;

/** The job.started and job.succeeded events of a run of `job`. */
export function runEvents(job) {
  const runId = randomUUID();
  const at = new Date().toISOString();
  const of = (event) => ({
    ...event,
    id: nextId++,
    at,
    data: { ...event.data, runId, job },
  });
  return { runId, started: of(captured.started), succeeded: of(captured.succeeded) };
}

/** `/api/jobs/<name>/trigger` → `<name>`, or undefined for any other path. */
export function triggeredJob(url) {
  return /^\/api\/jobs\/([^/?]+)\/trigger$/.exec(url)?.[1];
}
