import { Injectable, Logger } from '@nestjs/common';
import { messageOf } from '../../common/errors.js';
import { settlesWithin } from '../../common/settles-within.js';
import type { InsertOptions, Run } from '../../database/runs.repository.js';
import type { RunTrigger } from '../../database/schema.js';
import type { RunnableJob } from '../job.js';
import type { JobOptions } from '../job-options.js';
import { RunAbort } from './attempt.js';
import { LeaseKeeper } from './lease-keeper.js';
import { OverlapQueue } from './overlap-queue.js';
import { RunLedger } from './run-ledger.js';
import { RunSlots } from './run-slots.js';

export interface RunRequest {
  trigger: RunTrigger;
  /** The fire time a tick is for; the request time otherwise. */
  scheduledFor?: Date;
  /** A run retried by hand. */
  retryOf?: string;
  options?: JobOptions;
}

export type RunStart =
  | { accepted: true; run: Run }
  /** The job is running (here or on another replica): the request was recorded as the `skipped` run. */
  | { accepted: false; reason: 'busy'; run: Run; runningRunId: string }
  /** Another replica already recorded this tick (or a start-up run in the window): nothing was recorded. */
  | { accepted: false; reason: 'claimed' };

export class RunnerClosedError extends Error {
  constructor() {
    super('jobpulse is shutting down and starts no new runs');
  }
}

const CLAIMED: RunStart = { accepted: false, reason: 'claimed' };

/**
 * The one door every run passes through (schedule, manual trigger, start-up,
 * catch-up, retry): the run is recorded before the job starts (RunLedger),
 * one run per job at a time across all replicas, the next skipped or queued
 * (OverlapQueue), each tick once across replicas; its attempts run with their
 * timeout and retries (AttemptExecutor) in the job's slot (RunSlots), under a
 * lease kept fresh (LeaseKeeper). No job's exception escapes.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  private closed = false;

  constructor(
    private readonly ledger: RunLedger,
    private readonly slots: RunSlots,
    private readonly queue: OverlapQueue,
    private readonly leases: LeaseKeeper,
  ) {}

  /** The run of the job this process is running (or waiting to retry), if any. */
  runningRunId(jobName: string): string | undefined {
    return this.slots.runIdOf(jobName);
  }

  /** The runs this process is running or has queued: their leases are its to renew. */
  activeRunIds(): string[] {
    return this.leases.activeRunIds();
  }

  /**
   * Records the run and starts it in the background. While the job is busy
   * on any replica, the request is queued (overlap `queue`, one waiting at
   * most in the cluster) or recorded as `skipped`; a tick another replica
   * already recorded is dropped. Resolves once the record is written (and,
   * for a run that starts, its job.started published).
   */
  async start(job: RunnableJob, request: RunRequest): Promise<RunStart> {
    if (this.closed) throw new RunnerClosedError();
    const claim = this.ledger.claimOf(job.name, request);
    const run = this.ledger.draft(job.name, request);
    // The running run ends between our refused insert and the lookup of its id at most a few times in a row.
    for (let tries = 0; tries < 3; tries++) {
      const local = this.slots.runIdOf(job.name);
      if (local) return this.whileBusy(job, request, run, claim, local);
      const conflict = await this.ledger.open(run, claim);
      if (conflict === 'claimed') return CLAIMED;
      if (!conflict) {
        // Waiting for job.started costs the caller the event's insert and lets subscribers hear of
        // the run first, before its HTTP response is written (which would hold the event back).
        await this.slots.launch(job, run, request.options).started;
        return { accepted: true, run };
      }
      const runningRunId = await this.ledger.runningRunOf(job.name);
      if (runningRunId) return this.whileBusy(job, request, run, claim, runningRunId);
    }
    throw new Error(`job "${job.name}" could not be started: its running run kept changing`);
  }

  /** A scheduled tick: like `start`, but nothing escapes, since there is no caller to tell. */
  async tick(job: RunnableJob, scheduledFor: Date, options?: JobOptions): Promise<void> {
    try {
      const start = await this.start(job, { trigger: 'schedule', scheduledFor, options });
      if (!start.accepted && start.reason === 'claimed') {
        this.logger.debug({ msg: 'tick run by another replica', job: job.name, scheduledFor });
      }
    } catch (error) {
      this.logger.error({ msg: 'scheduled run could not start', job: job.name, scheduledFor, error: messageOf(error) });
    }
  }

  /**
   * Stops new runs, drops queued ones, waits up to `timeoutMs` for running
   * ones (no further retries), then aborts the rest through their signal and
   * records them `interrupted` (Quartz's WaitForJobsToComplete with a limit).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    // A queued run being promoted right now either starts (and is waited for below) or stays queued and is dropped.
    await this.queue.close();
    const slots = this.slots.all();
    for (const slot of slots) slot.stop();
    await this.queue.dropAll();
    if (slots.length === 0) return;
    this.logger.log({
      msg: 'waiting for running jobs',
      runs: slots.map((slot) => ({ job: slot.jobName, runId: slot.runId })),
      timeoutMs,
    });
    const allDone = Promise.all(slots.map((slot) => slot.done));
    if (await settlesWithin(allDone, timeoutMs)) return;
    this.ledger.stopRetrying();
    for (const slot of this.slots.all()) {
      this.logger.warn({
        msg: 'interrupting run at shutdown timeout',
        job: slot.jobName,
        runId: slot.runId,
        timeoutMs,
      });
      slot.abort(new RunAbort('interrupted', `interrupted at shutdown after SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms)`));
    }
    await allDone;
  }

  /** Queues the request behind the running run (overlap `queue`) if the queue has room; records it skipped otherwise. */
  private async whileBusy(
    job: RunnableJob,
    request: RunRequest,
    run: Run,
    claim: InsertOptions,
    runningRunId: string,
  ): Promise<RunStart> {
    if (request.options?.overlap === 'queue') {
      const queued = await this.queue.enqueue(job, request.options, run, claim, runningRunId);
      if (queued === 'claimed') return CLAIMED;
      if (queued !== 'busy') return { accepted: true, run: queued };
    }
    const skipped = await this.ledger.skip(run, runningRunId, claim);
    return skipped ? { accepted: false, reason: 'busy', run: skipped, runningRunId } : CLAIMED;
  }
}
