import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { CLOCK, type Clock } from '../common/clock.js';
import { settlesWithin } from '../common/settles-within.js';
import { Env } from '../config/env.js';
import { RunsRepository, type InsertOptions, type Run } from '../database/runs.repository.js';
import type { RunStatus, RunTrigger } from '../database/schema.js';
import { runEventData, type RunEventType } from '../notifier/events.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { backoffDelayMs } from './backoff.js';
import type { JobContext, RunnableJob } from './job.js';
import type { JobOptions } from './job-options.js';

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

/** Why a run's signal was aborted: it decides the status the run ends with. */
class RunAbort extends Error {
  constructor(
    readonly status: Extract<RunStatus, 'timed_out' | 'interrupted'>,
    message: string,
  ) {
    super(message);
  }
}

/** How an attempt ended; the stack of a job's exception goes to the log only. */
type Outcome = Pick<Run, 'status' | 'error'> & { stack?: string };

interface QueuedRun {
  job: RunnableJob;
  request: RunRequest;
  run: Run;
}

/** The one run a job has at a time in this process, through all its attempts. */
interface Slot {
  runId: string;
  controller: AbortController;
  /** Aborted at shutdown: no further attempts. */
  shutdown: AbortController;
  done: Promise<void>;
}

/** How often a queued run checks whether the run ahead of it, on any replica, has ended. */
const QUEUE_POLL_MS = 1000;
/** How often a run's outcome is written again while the database cannot be reached. */
const RECORD_RETRY_MS = 1000;

const FINAL_EVENTS: Record<Exclude<RunStatus, 'queued' | 'running' | 'skipped' | 'abandoned'>, RunEventType> = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  timed_out: 'job.timed_out',
  interrupted: 'job.interrupted',
};

/**
 * The one path every run takes (schedule, manual trigger, start-up, catch-up,
 * retry): it records the run before and after the job, keeps one run per job
 * at a time across all replicas (skipping or queueing the next), runs each
 * tick once across replicas, enforces the job's timeout, retries failed
 * attempts with backoff, keeps each running run's lease fresh, publishes the
 * run's progress, and never lets a job's exception escape.
 *
 * The database arbitrates between replicas: a run is recorded before it
 * starts, and its unique indexes refuse a second claim of a tick, a second
 * running run of a job, or a second queued one.
 */
@Injectable()
export class JobRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(JobRunner.name);
  private readonly slots = new Map<string, Slot>();
  /** Runs this process queued, by job: each waits for the job's running run, wherever it runs. */
  private readonly queued = new Map<string, QueuedRun>();
  /** Promotions of queued runs in flight, by job: one at a time each. */
  private readonly promotions = new Map<string, Promise<void>>();
  private readonly leaseRenewal: NodeJS.Timeout;
  private readonly queuePoll: NodeJS.Timeout;
  /** Aborted once shutdown stops waiting: outcomes the database refuses are then logged, not retried. */
  private readonly stopRecording = new AbortController();
  private closed = false;

  constructor(
    private readonly runs: RunsRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.leaseRenewal = setInterval(() => void this.renewLeases(), Math.max(250, env.RUN_LEASE_MS / 3));
    this.leaseRenewal.unref();
    this.queuePoll = setInterval(() => this.queued.forEach((_, jobName) => this.promote(jobName)), QUEUE_POLL_MS);
    this.queuePoll.unref();
  }

  /** The run of the job this process is running (or waiting to retry), if any. */
  runningRunId(jobName: string): string | undefined {
    return this.slots.get(jobName)?.runId;
  }

  /** The runs this process is running or has queued: their leases are its to renew. */
  activeRunIds(): string[] {
    return [...this.slots.values()]
      .map((slot) => slot.runId)
      .concat([...this.queued.values()].map(({ run }) => run.id));
  }

  /**
   * Records the run and starts it in the background. While the job is busy
   * on any replica, the request is queued (overlap `queue`, one waiting at
   * most in the cluster) or recorded as `skipped`; a tick another replica
   * already recorded is dropped. Resolves once the record is written.
   */
  async start(job: RunnableJob, request: RunRequest): Promise<RunStart> {
    if (this.closed) throw new RunnerClosedError();
    const claim = this.claimOf(job, request);
    const run = this.newRun(job, request);
    // The running run ends between our refused insert and the lookup of its id at most a few times in a row.
    for (let tries = 0; tries < 3; tries++) {
      const local = this.slots.get(job.name);
      if (local) return this.whileBusy(job, request, run, claim, local.runId);
      const conflict = await this.runs.insert(run, { ...claim, leaseUntil: this.leaseUntil() });
      if (conflict === 'claimed') return { accepted: false, reason: 'claimed' };
      if (!conflict) {
        this.runInSlot(job, run, request, this.openSlot(job.name, run.id));
        return { accepted: true, run };
      }
      const runningRunId = await this.runs.runningRunOf(job.name);
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
    await Promise.all(this.promotions.values());
    const queued = [...this.queued.values()];
    this.queued.clear();
    const slots = [...this.slots.entries()];
    for (const [, slot] of slots) slot.shutdown.abort();
    for (const waiting of queued) await this.dropQueued(waiting);
    if (slots.length === 0) return;
    this.logger.log({
      msg: 'waiting for running jobs',
      runs: slots.map(([job, { runId }]) => ({ job, runId })),
      timeoutMs,
    });
    const allDone = Promise.all(slots.map(([, slot]) => slot.done));
    if (await settlesWithin(allDone, timeoutMs)) return;
    this.stopRecording.abort();
    for (const [job, slot] of this.slots) {
      this.logger.warn({ msg: 'interrupting run at shutdown timeout', job, runId: slot.runId, timeoutMs });
      slot.controller.abort(
        new RunAbort('interrupted', `interrupted at shutdown after SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms)`),
      );
    }
    await allDone;
  }

  /** After the drain: leases stay fresh while runs finish, so no other replica takes them for abandoned. */
  onApplicationShutdown(): void {
    clearInterval(this.leaseRenewal);
    clearInterval(this.queuePoll);
  }

  /** Ticks and their catch-ups claim their fire time; start-up runs claim the start-up window. */
  private claimOf(job: RunnableJob, request: RunRequest): InsertOptions {
    if (request.trigger === 'schedule' || request.trigger === 'catch-up') {
      return { claimKey: `${job.name}@${(request.scheduledFor ?? this.clock.now()).toISOString()}` };
    }
    if (request.trigger === 'startup') {
      return { noStartupSince: new Date(this.clock.now().getTime() - this.env.STARTUP_RUN_WINDOW).toISOString() };
    }
    return {};
  }

  private newRun(job: RunnableJob, request: RunRequest): Run {
    const now = this.clock.now();
    return {
      id: randomUUID(),
      job: job.name,
      trigger: request.trigger,
      status: 'running',
      scheduledFor: (request.scheduledFor ?? now).toISOString(),
      startedAt: now.toISOString(),
      finishedAt: null,
      durationMs: null,
      error: null,
      attempt: 1,
      maxAttempts: 1 + (request.options?.retries ?? 0),
      retryOf: request.retryOf ?? null,
      node: this.env.NODE_ID,
    };
  }

  private openSlot(jobName: string, runId: string): Slot & { settle: () => void } {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const slot = { runId, controller: new AbortController(), shutdown: new AbortController(), done, settle };
    this.slots.set(jobName, slot);
    return slot;
  }

  private closeSlot(jobName: string, slot: Slot & { settle: () => void }): void {
    this.slots.delete(jobName);
    slot.settle();
  }

  private runInSlot(job: RunnableJob, run: Run, request: RunRequest, slot: Slot & { settle: () => void }): void {
    void this.attempts(job, run, request, slot)
      // attempts() guards each step itself; this keeps even an unforeseen failure from becoming an unhandled rejection.
      .catch((error: unknown) =>
        this.logger.error({ msg: 'run ended unexpectedly', job: job.name, runId: slot.runId, error: messageOf(error) }),
      )
      .finally(() => {
        this.closeSlot(job.name, slot);
        this.promote(job.name);
      });
  }

  /** Runs the first attempt and, while attempts fail and retries remain, the next ones after their backoff. */
  private async attempts(job: RunnableJob, first: Run, request: RunRequest, slot: Slot): Promise<void> {
    let run = first;
    for (;;) {
      const retryAt = await this.attempt(job, run, slot, request.options);
      if (!retryAt) return;
      const waitMs = Math.max(0, retryAt.getTime() - this.clock.now().getTime());
      const waited = await delay(waitMs, true, { signal: slot.shutdown.signal }).catch(() => false);
      if (!waited) return;
      run = {
        ...run,
        id: randomUUID(),
        status: 'running',
        startedAt: this.clock.now().toISOString(),
        finishedAt: null,
        durationMs: null,
        error: null,
        attempt: run.attempt + 1,
        retryOf: run.id,
      };
      slot.runId = run.id;
      slot.controller = new AbortController();
      try {
        const conflict = await this.runs.insert(run, { leaseUntil: this.leaseUntil() });
        // Between attempts no run of the job is running, and another replica may have started one.
        if (conflict) {
          const runningRunId = (await this.runs.runningRunOf(job.name)) ?? 'of another replica';
          await this.skip(run, runningRunId, {});
          return;
        }
      } catch (error) {
        this.logger.error({
          msg: 'retry could not be recorded',
          job: job.name,
          runId: run.id,
          error: messageOf(error),
        });
        return;
      }
      if (slot.shutdown.signal.aborted) {
        await this.finish(
          job,
          run,
          { status: 'interrupted', error: 'interrupted at shutdown before the retry began' },
          undefined,
        );
        return;
      }
    }
  }

  /**
   * One attempt: started, run until it settles or its signal is aborted
   * (timeout, shutdown), recorded. Resolves with when the next attempt is
   * due, if this one failed or timed out and retries remain.
   */
  private async attempt(job: RunnableJob, run: Run, slot: Slot, options: JobOptions = {}): Promise<Date | undefined> {
    const timeoutMs = options.timeoutMs;
    const { id: runId, trigger } = run;
    const controller = slot.controller;
    this.logger.log({ msg: 'run started', job: job.name, runId, trigger, attempt: run.attempt, of: run.maxAttempts });
    await this.publish('job.started', run);
    const context: JobContext = {
      runId,
      job: job.name,
      trigger,
      attempt: run.attempt,
      signal: controller.signal,
      progress: (percent, message) => this.progress(run, percent, message),
    };
    const timeout =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => controller.abort(new RunAbort('timed_out', `timed out after ${timeoutMs} ms`)), timeoutMs);
    let outcome: Outcome;
    // A job that ignores its signal may settle after the run has ended: its outcome then has no one to tell.
    const work = Promise.resolve().then(() => job.run(context));
    work.catch(() => undefined);
    try {
      await Promise.race([work, aborted(controller.signal)]);
      outcome = { status: 'succeeded', error: null };
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
      outcome =
        reason instanceof RunAbort
          ? { status: reason.status, error: reason.message }
          : { status: 'failed', error: messageOf(error), stack: (error as Error)?.stack };
    } finally {
      clearTimeout(timeout);
    }
    const retryable = outcome.status === 'failed' || outcome.status === 'timed_out';
    const retryAt =
      retryable && run.attempt < run.maxAttempts && !slot.shutdown.signal.aborted
        ? new Date(this.clock.now().getTime() + backoffDelayMs(options.backoff, run.attempt))
        : undefined;
    await this.finish(job, run, outcome, retryAt);
    return retryAt;
  }

  private async finish(
    job: RunnableJob,
    run: Run,
    { stack, ...outcome }: Outcome,
    retryAt: Date | undefined,
  ): Promise<void> {
    const finishedAt = this.clock.now();
    const finished: Run = {
      ...run,
      ...outcome,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - Date.parse(run.startedAt)),
    };
    if (!(await this.record(run, `run outcome (${finished.status})`, () => this.runs.finish(run.id, finished)))) return;
    const level = finished.status === 'succeeded' ? 'log' : finished.status === 'failed' ? 'error' : 'warn';
    this.logger[level]({
      msg: `run ${finished.status}`,
      job: job.name,
      runId: run.id,
      trigger: run.trigger,
      attempt: run.attempt,
      of: run.maxAttempts,
      durationMs: finished.durationMs,
      ...(finished.error ? { error: finished.error } : {}),
      ...(retryAt ? { nextAttemptAt: retryAt.toISOString() } : {}),
      ...(stack ? { stack } : {}),
    });
    const type = FINAL_EVENTS[finished.status as keyof typeof FINAL_EVENTS];
    await this.publish(type, finished, retryAt);
  }

  /** Queues the request behind the running run (overlap `queue`), unless a run of the job is queued already. */
  private async whileBusy(
    job: RunnableJob,
    request: RunRequest,
    run: Run,
    claim: InsertOptions,
    runningRunId: string,
  ): Promise<RunStart> {
    if (request.options?.overlap !== 'queue' || this.queued.has(job.name)) return this.skip(run, runningRunId, claim);
    const queued: Run = { ...run, status: 'queued' };
    // Held before the insert, so a second local request in the meantime is skipped rather than queued too.
    this.queued.set(job.name, { job, request, run: queued });
    const conflict = await this.runs
      .insert(queued, { ...claim, leaseUntil: this.leaseUntil() })
      .catch((error: unknown) => {
        this.queued.delete(job.name);
        throw error;
      });
    if (conflict) this.queued.delete(job.name);
    if (conflict === 'claimed') return { accepted: false, reason: 'claimed' };
    if (conflict === 'busy') return this.skip(run, runningRunId, claim);
    this.logger.log({ msg: 'run queued', job: run.job, runId: run.id, trigger: run.trigger, behind: runningRunId });
    await this.publish('job.queued', queued);
    this.promote(job.name);
    return { accepted: true, run: queued };
  }

  /**
   * Starts the job's queued run if no run of the job is running anywhere;
   * tried when a local run ends and every QUEUE_POLL_MS for runs on other replicas.
   */
  private promote(jobName: string): void {
    const waiting = this.queued.get(jobName);
    if (!waiting || this.closed || this.slots.has(jobName) || this.promotions.has(jobName)) return;
    this.promotions.set(
      jobName,
      this.tryPromote(waiting).finally(() => this.promotions.delete(jobName)),
    );
  }

  private async tryPromote(waiting: QueuedRun): Promise<void> {
    const { job, request } = waiting;
    const started: Run = {
      ...waiting.run,
      status: 'running',
      startedAt: this.clock.now().toISOString(),
      node: this.env.NODE_ID,
    };
    let outcome;
    try {
      outcome = await this.runs.begin(started, this.leaseUntil());
    } catch (error) {
      this.logger.error({
        msg: 'queued run could not start',
        job: job.name,
        runId: started.id,
        error: messageOf(error),
      });
      return;
    }
    if (outcome === 'busy') return;
    this.queued.delete(job.name);
    if (outcome === 'gone') {
      this.logger.warn({ msg: 'queued run is no longer queued', job: job.name, runId: started.id });
      return;
    }
    this.runInSlot(job, started, request, this.openSlot(job.name, started.id));
  }

  private async dropQueued({ run }: QueuedRun): Promise<void> {
    const now = this.clock.now().toISOString();
    const skipped: Run = {
      ...run,
      status: 'skipped',
      finishedAt: now,
      durationMs: 0,
      error: 'skipped: shutdown before it started',
    };
    if (await this.record(run, 'dropped queued run', () => this.runs.finish(run.id, skipped))) {
      await this.publish('job.skipped', skipped);
    }
  }

  private async skip(run: Run, runningRunId: string, claim: InsertOptions): Promise<RunStart> {
    const skipped: Run = {
      ...run,
      status: 'skipped',
      finishedAt: run.startedAt,
      durationMs: 0,
      error: `skipped: run ${runningRunId} of ${run.job} is still running`,
    };
    // Replicas refused the same tick record one skipped run for it between them.
    if (await this.runs.insert(skipped, claim)) return { accepted: false, reason: 'claimed' };
    this.logger.warn({ msg: 'run skipped', job: run.job, runId: run.id, trigger: run.trigger, runningRunId });
    await this.publish('job.skipped', skipped);
    return { accepted: false, reason: 'busy', run: skipped, runningRunId };
  }

  /**
   * Writes a run's outcome, again every RECORD_RETRY_MS while the database
   * cannot be reached (an outage must not lose it), until shutdown gives up.
   * Resolves whether it was recorded: not when shutdown gave up, nor when
   * another replica had marked the run abandoned meanwhile (its outcome
   * then stays in the log only, so the run does not end twice).
   */
  private async record(run: Run, what: string, write: () => Promise<boolean>): Promise<boolean> {
    for (let failures = 0; ; failures++) {
      try {
        const recorded = await write();
        if (!recorded) {
          this.logger.warn({
            msg: `${what} not recorded: another replica marked the run abandoned`,
            job: run.job,
            runId: run.id,
          });
        } else if (failures > 0) {
          this.logger.log({ msg: `${what} recorded after retrying`, job: run.job, runId: run.id });
        }
        return recorded;
      } catch (error) {
        const givingUp = this.stopRecording.signal.aborted;
        if (failures === 0 || givingUp) {
          this.logger.error({
            msg: givingUp ? `${what} could not be recorded` : `${what} could not be recorded; retrying`,
            job: run.job,
            runId: run.id,
            error: messageOf(error),
          });
        }
        if (givingUp) return false;
        await delay(RECORD_RETRY_MS, undefined, { signal: this.stopRecording.signal }).catch(() => undefined);
      }
    }
  }

  private leaseUntil(): string {
    return new Date(this.clock.now().getTime() + this.env.RUN_LEASE_MS).toISOString();
  }

  private async renewLeases(): Promise<void> {
    try {
      const lost = await this.runs.renewLeases(this.activeRunIds(), this.leaseUntil());
      for (const runId of lost) this.loseLease(runId);
    } catch (error) {
      this.logger.error({
        msg: 'run leases could not be renewed',
        runIds: this.activeRunIds(),
        error: messageOf(error),
      });
    }
  }

  /**
   * Another replica took this process for dead (the database was unreachable
   * for longer than the lease) and marked the run abandoned; the job may
   * already run elsewhere, so this run stops.
   */
  private loseLease(runId: string): void {
    for (const [jobName, slot] of this.slots) {
      if (slot.runId !== runId) continue;
      this.logger.warn({ msg: 'run lost its lease; stopping it', job: jobName, runId });
      slot.shutdown.abort();
      slot.controller.abort(new RunAbort('interrupted', 'lease lost: another replica marked the run abandoned'));
    }
    for (const [jobName, waiting] of this.queued) {
      if (waiting.run.id !== runId) continue;
      this.logger.warn({ msg: 'queued run lost its lease; dropping it', job: jobName, runId });
      this.queued.delete(jobName);
    }
  }

  private async progress(run: Run, percent: number, message?: string): Promise<void> {
    const clamped = Math.min(100, Math.max(0, Number.isNaN(percent) ? 0 : percent));
    await this.safely(run, () =>
      this.notifier.publish('job.progress', {
        runId: run.id,
        job: run.job,
        percent: clamped,
        message: message ?? null,
      }),
    );
  }

  private publish(type: RunEventType, run: Run, nextAttemptAt?: Date): Promise<void> {
    return this.safely(run, () => this.notifier.publish(type, runEventData(run, nextAttemptAt)));
  }

  /** A failed publish is logged with its run and does not end the run. */
  private async safely(run: Run, publish: () => Promise<unknown>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logger.error({ msg: 'event could not be published', job: run.job, runId: run.id, error: messageOf(error) });
    }
  }
}

/** Rejects with the signal's reason once it is aborted; an abort after the race is over goes unnoticed. */
function aborted(signal: AbortSignal): Promise<never> {
  const rejection = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
  rejection.catch(() => undefined);
  return rejection;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
