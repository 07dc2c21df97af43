import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock.js';
import { messageOf } from '../../common/errors.js';
import { timeOrderedId } from '../../common/time-ordered-id.js';
import { Env } from '../../config/env.js';
import { RunsRepository, type InsertConflict, type InsertOptions, type Run } from '../../database/runs.repository.js';
import type { RunStatus } from '../../database/schema.js';
import { runEventData, type RunEventType } from '../../notifier/events.js';
import { NotifierService } from '../../notifier/notifier.service.js';
import { abortableDelay } from './abortable-delay.js';
import type { RunRequest } from './job-runner.js';

/** The statuses an attempt ends with. */
export type FinalStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'timed_out' | 'interrupted'>;

/** How an attempt ended; the stack of a job's exception goes to the log only. */
export interface Outcome {
  status: FinalStatus;
  error: string | null;
  stack?: string;
}

const FINAL_EVENTS: Record<FinalStatus, RunEventType> = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  timed_out: 'job.timed_out',
  interrupted: 'job.interrupted',
};

/** How often a run's outcome is written again while the database cannot be reached. */
export const RECORD_RETRY_MS = 1000;

/**
 * The record of every run: what a request claims, the row written before,
 * between and after its attempts, and the event that announces each change.
 * Outcomes are written again until they stick, so that an outage of the
 * database loses none.
 *
 * The database arbitrates between replicas: a run is recorded before it
 * starts, and its unique indexes refuse a second claim of a tick, a second
 * running run of a job, or a second queued one.
 */
@Injectable()
export class RunLedger {
  private readonly logger = new Logger(RunLedger.name);
  /** Aborted once shutdown stops waiting: outcomes the database refuses are then logged, not retried. */
  private readonly stopRecording = new AbortController();

  constructor(
    private readonly runs: RunsRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The run a request makes, as it is recorded when it starts. */
  draft(jobName: string, request: RunRequest): Run {
    const now = this.clock.now();
    return {
      id: timeOrderedId(),
      job: jobName,
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

  /** The next attempt of a run that failed or timed out: a run of its own, starting now. */
  draftRetry(previous: Run): Run {
    return {
      ...previous,
      id: timeOrderedId(),
      status: 'running',
      startedAt: this.clock.now().toISOString(),
      finishedAt: null,
      durationMs: null,
      error: null,
      attempt: previous.attempt + 1,
      retryOf: previous.id,
    };
  }

  /** Ticks and their catch-ups claim their fire time; start-up runs claim the start-up window. */
  claimOf(jobName: string, request: RunRequest): InsertOptions {
    if (request.trigger === 'schedule' || request.trigger === 'catch-up') {
      return { claimKey: `${jobName}@${(request.scheduledFor ?? this.clock.now()).toISOString()}` };
    }
    if (request.trigger === 'startup') {
      return { noStartupSince: new Date(this.clock.now().getTime() - this.env.STARTUP_RUN_WINDOW).toISOString() };
    }
    return {};
  }

  /** Until when a lease taken or renewed now holds. */
  leaseUntil(): string {
    return new Date(this.clock.now().getTime() + this.env.RUN_LEASE_MS).toISOString();
  }

  /** Records a running or queued run with a fresh lease, unless a run of another replica conflicts. */
  open(run: Run, claim: InsertOptions = {}): Promise<InsertConflict | undefined> {
    return this.runs.insert(run, { ...claim, leaseUntil: this.leaseUntil() });
  }

  /**
   * Begins a queued run here and now, with a fresh lease: resolves the
   * running run, `busy` while a run of its job is running anywhere, or `gone`
   * if it is no longer queued (another replica marked it abandoned).
   */
  async begin(queued: Run): Promise<Run | 'busy' | 'gone'> {
    const started: Run = {
      ...queued,
      status: 'running',
      startedAt: this.clock.now().toISOString(),
      node: this.env.NODE_ID,
    };
    const begun = await this.runs.begin(started, this.leaseUntil());
    return begun === 'begun' ? started : begun;
  }

  /** The id of the job's running run, on any replica. */
  runningRunOf(jobName: string): Promise<string | undefined> {
    return this.runs.runningRunOf(jobName);
  }

  /**
   * Records and announces the run as skipped, behind the job's running run;
   * resolves undefined, recording nothing, if another replica refused the
   * same tick and recorded its skipped run first.
   */
  async skip(run: Run, runningRunId: string, claim: InsertOptions): Promise<Run | undefined> {
    const skipped: Run = {
      ...run,
      status: 'skipped',
      finishedAt: run.startedAt,
      durationMs: 0,
      error: `skipped: run ${runningRunId} of ${run.job} is still running`,
    };
    if (await this.runs.insert(skipped, claim)) return undefined;
    this.logger.warn({
      msg: 'run skipped',
      job: run.job,
      runId: run.id,
      trigger: run.trigger,
      attempt: run.attempt,
      node: run.node,
      runningRunId,
    });
    await this.publish('job.skipped', skipped);
    return skipped;
  }

  /** Records how an attempt ended, logs it and announces it (with the next attempt's time, if one is due). */
  async finish(run: Run, { stack, ...outcome }: Outcome, nextAttemptAt?: Date): Promise<void> {
    const finishedAt = this.clock.now();
    const finished: Run = {
      ...run,
      ...outcome,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - Date.parse(run.startedAt)),
    };
    if (!(await this.record(run, `run outcome (${outcome.status})`, () => this.runs.finish(run.id, finished)))) return;
    // The event before the log line, as for the start (see AttemptExecutor).
    await this.publish(FINAL_EVENTS[outcome.status], finished, nextAttemptAt);
    const level = outcome.status === 'succeeded' ? 'log' : outcome.status === 'failed' ? 'error' : 'warn';
    this.logger[level]({
      msg: `run ${outcome.status}`,
      job: run.job,
      runId: run.id,
      trigger: run.trigger,
      attempt: run.attempt,
      of: run.maxAttempts,
      durationMs: finished.durationMs,
      node: run.node,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
      ...(stack ? { stack } : {}),
    });
  }

  /** A queued run that shutdown came before: recorded and announced as skipped. */
  async dropQueued(run: Run): Promise<void> {
    const skipped: Run = {
      ...run,
      status: 'skipped',
      finishedAt: this.clock.now().toISOString(),
      durationMs: 0,
      error: 'skipped: shutdown before it started',
    };
    if (await this.record(run, 'dropped queued run', () => this.runs.finish(run.id, skipped))) {
      await this.publish('job.skipped', skipped);
    }
  }

  /** Renews the leases of these runs; resolves the ids of those another replica marked abandoned meanwhile. */
  renewLeases(runIds: string[]): Promise<string[]> {
    return this.runs.renewLeases(runIds, this.leaseUntil());
  }

  /** Marks the runs whose lease expired abandoned, except `activeRunIds` (this process's own), and resolves them. */
  abandonExpired(activeRunIds: string[]): Promise<Run[]> {
    return this.runs.abandonExpired(this.clock.now().toISOString(), activeRunIds);
  }

  /** From now on an outcome the database refuses is logged once and given up (shutdown stops waiting for it). */
  stopRetrying(): void {
    this.stopRecording.abort();
  }

  /** Publishes a run's event; a failed publish is logged with its run and does not end the run. */
  publish(type: RunEventType, run: Run, nextAttemptAt?: Date): Promise<void> {
    return this.safely(run, () => this.notifier.publish(type, runEventData(run, nextAttemptAt)));
  }

  /** Publishes `job.progress`, the percent clamped to 0–100 (NaN as 0). */
  progress(run: Run, percent: number, message?: string): Promise<void> {
    const clamped = Math.min(100, Math.max(0, Number.isNaN(percent) ? 0 : percent));
    return this.safely(run, () =>
      this.notifier.publish('job.progress', {
        runId: run.id,
        job: run.job,
        percent: clamped,
        message: message ?? null,
      }),
    );
  }

  private async safely(run: Run, publish: () => Promise<unknown>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logger.error({ msg: 'event could not be published', job: run.job, runId: run.id, error: messageOf(error) });
    }
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
        await abortableDelay(RECORD_RETRY_MS, this.stopRecording.signal);
      }
    }
  }
}
