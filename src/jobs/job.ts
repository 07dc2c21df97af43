import type { RunTrigger } from '../database/schema.js';

/** What a job receives for one run. */
export interface JobContext {
  runId: string;
  job: string;
  trigger: RunTrigger;
  /** 1 for the first try; higher on an automatic retry (`retries` option). */
  attempt: number;
  /** Aborted at the job's timeout (`timeoutMs` option), or at shutdown once the run outlives `SHUTDOWN_TIMEOUT_MS`. */
  signal: AbortSignal;
  /** Publishes `job.progress` (percent clamped to 0–100). */
  progress: (percent: number, message?: string) => Promise<void>;
}

/** What the runner needs of a job: its name and its work. */
export interface RunnableJob {
  readonly name: string;
  run(context: JobContext): Promise<unknown>;
}
