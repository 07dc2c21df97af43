import { randomUUID } from 'node:crypto';
import type { Run } from '../../src/database/runs.repository.js';
import type { JobContext, RunnableJob } from '../../src/jobs/job.js';
import { deferred, type Deferred } from './deferred.js';

/** When a run made by {@link makeRun} starts, unless told otherwise. */
export const RUN_STARTED_AT = '2025-01-01T08:00:00.000Z';

/**
 * A run as the runner records it: of job `sync`, triggered by hand, running,
 * unless `overrides` say otherwise. A run given an ended status has ended a
 * second after it started, with an error unless it succeeded.
 */
export function makeRun(overrides: Partial<Run> = {}): Run {
  const status = overrides.status ?? 'running';
  const startedAt = overrides.startedAt ?? RUN_STARTED_AT;
  const ended = status !== 'running' && status !== 'queued';
  return {
    id: randomUUID(),
    job: 'sync',
    trigger: 'manual',
    status,
    scheduledFor: startedAt,
    startedAt,
    finishedAt: ended ? new Date(Date.parse(startedAt) + 1000).toISOString() : null,
    durationMs: ended ? 1000 : null,
    error: ended && status !== 'succeeded' ? 'it went wrong' : null,
    attempt: 1,
    maxAttempts: 1,
    retryOf: null,
    node: null,
    ...overrides,
  };
}

/** A job whose runs the test controls: each run calls `body` and is recorded with its context. */
export class FakeJob implements RunnableJob {
  readonly contexts: JobContext[] = [];
  /** Resolved with the context of the first run once it has entered `run`. */
  readonly entered = deferred<JobContext>();

  constructor(
    readonly name: string,
    private readonly body: (context: JobContext) => Promise<unknown> = () => Promise.resolve(),
  ) {}

  run(context: JobContext): Promise<unknown> {
    this.contexts.push(context);
    this.entered.resolve(context);
    return this.body(context);
  }
}

/** A job that runs until the test releases (or fails) it. */
export function controlledJob(name = 'sync'): { job: FakeJob; release: Deferred } {
  const release = deferred();
  return { job: new FakeJob(name, () => release.promise), release };
}

/** A job whose n-th run (from 0) settles when the test settles `gates[n]`. */
export function gatedJob(name: string, count: number): { job: FakeJob; gates: Deferred[] } {
  const gates = Array.from({ length: count }, () => deferred());
  const job: FakeJob = new FakeJob(name, () => gates[job.contexts.length - 1].promise);
  return { job, gates };
}

/** A job that fails its first `failures` runs with "attempt n failed", then succeeds. */
export function failingJob(name: string, failures: number): FakeJob {
  const job: FakeJob = new FakeJob(name, () =>
    job.contexts.length <= failures
      ? Promise.reject(new Error(`attempt ${job.contexts.length} failed`))
      : Promise.resolve(),
  );
  return job;
}

/** A job that runs until its signal is aborted, and then rejects with the signal's reason. */
export function abortableJob(name: string): FakeJob {
  return new FakeJob(
    name,
    ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
  );
}
