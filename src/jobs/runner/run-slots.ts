import { Injectable, Logger } from '@nestjs/common';
import { messageOf } from '../../common/errors.js';
import type { Run } from '../../database/runs.repository.js';
import type { RunnableJob } from '../job.js';
import type { JobOptions } from '../job-options.js';
import { AttemptExecutor, type RunAbort } from './attempt.js';

/** The one run a job has at a time in this process, through all its attempts. */
export class Slot {
  private attempt = new AbortController();
  private readonly stopping = new AbortController();
  private free: () => void;
  private announce: () => void;
  /** Settles once the run's last attempt is recorded and the slot is free. */
  readonly done: Promise<void>;
  /** Settles once the first attempt's job.started is published (or the run ended without it). */
  readonly started: Promise<void>;

  constructor(
    readonly jobName: string,
    private current: string,
  ) {
    let free!: () => void;
    let announce!: () => void;
    this.done = new Promise((resolve) => (free = resolve));
    this.started = new Promise((resolve) => (announce = resolve));
    this.free = free;
    this.announce = announce;
  }

  /** The id of the current attempt's run. */
  get runId(): string {
    return this.current;
  }

  /** The current attempt's signal, which its job receives. */
  get signal(): AbortSignal {
    return this.attempt.signal;
  }

  /** Aborted at shutdown, or when the lease is lost: no further attempts. */
  get stopped(): AbortSignal {
    return this.stopping.signal;
  }

  /** For the attempt executor once an attempt's job.started is published. */
  announced(): void {
    this.announce();
  }

  /** The next attempt runs as run `runId`, with a signal of its own. */
  nextAttempt(runId: string): void {
    this.current = runId;
    this.attempt = new AbortController();
  }

  /** Aborts the current attempt's signal; the reason decides how the attempt ends. */
  abort(reason: RunAbort): void {
    this.attempt.abort(reason);
  }

  /** No further attempts: the current one still ends as its job does. */
  stop(): void {
    this.stopping.abort();
  }

  /** For RunSlots once the run is over. */
  release(): void {
    this.announce();
    this.free();
  }
}

/** The runs this process is running, one slot per job, each until its last attempt is recorded. */
@Injectable()
export class RunSlots {
  private readonly logger = new Logger(RunSlots.name);
  private readonly slots = new Map<string, Slot>();
  private readonly freedListeners: ((jobName: string) => void)[] = [];

  constructor(private readonly attempts: AttemptExecutor) {}

  /** The run of the job this process is running (or waiting to retry), if any. */
  runIdOf(jobName: string): string | undefined {
    return this.slots.get(jobName)?.runId;
  }

  has(jobName: string): boolean {
    return this.slots.has(jobName);
  }

  all(): Slot[] {
    return [...this.slots.values()];
  }

  runIds(): string[] {
    return this.all().map((slot) => slot.runId);
  }

  /** The slot whose current attempt is run `runId`. */
  withRun(runId: string): Slot | undefined {
    return this.all().find((slot) => slot.runId === runId);
  }

  /** Calls `listener` with the job's name whenever a job's slot is freed. */
  onFreed(listener: (jobName: string) => void): void {
    this.freedListeners.push(listener);
  }

  /** Runs a recorded run and its retries in the job's slot, in the background. */
  launch(job: RunnableJob, run: Run, options?: JobOptions): Slot {
    const slot = new Slot(job.name, run.id);
    this.slots.set(job.name, slot);
    void this.attempts
      .run(job, run, slot, options)
      // The executor guards each step itself; this keeps even an unforeseen failure from becoming an unhandled rejection.
      .catch((error: unknown) =>
        this.logger.error({ msg: 'run ended unexpectedly', job: job.name, runId: slot.runId, error: messageOf(error) }),
      )
      .finally(() => {
        this.slots.delete(job.name);
        slot.release();
        for (const listener of this.freedListeners) listener(job.name);
      });
    return slot;
  }
}
