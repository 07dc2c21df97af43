import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { CLOCK, type Clock } from '../common/clock.js';
import { RunsRepository, type Run } from '../database/runs.repository.js';
import type { RunTrigger } from '../database/schema.js';
import type { EventType, RunEventData } from '../notifier/events.js';
import { NotifierService } from '../notifier/notifier.service.js';
import type { JobContext, RunnableJob } from './job.js';

export type RunStart = { accepted: true; run: Run } | { accepted: false; run: Run; runningRunId: string };

export class RunnerClosedError extends Error {
  constructor() {
    super('jobpulse is shutting down and starts no new runs');
  }
}

interface ActiveRun {
  runId: string;
  controller: AbortController;
  done: Promise<void>;
}

/** How long aborted runs get to write their final record once the shutdown timeout has passed. */
const ABORT_GRACE_MS = 1000;

/**
 * The one path every run takes (schedule, manual trigger, start-up): it records
 * the run before and after the job, keeps one run per job at a time, publishes
 * the run's progress, and never lets a job's exception escape.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  private readonly active = new Map<string, ActiveRun>();
  private closed = false;

  constructor(
    private readonly runs: RunsRepository,
    private readonly notifier: NotifierService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  runningRunId(jobName: string): string | undefined {
    return this.active.get(jobName)?.runId;
  }

  /**
   * Records the run and starts it in the background, or records a `skipped`
   * run when the job is still running. Resolves once the record is written.
   */
  async start(job: RunnableJob, trigger: RunTrigger, scheduledFor?: Date): Promise<RunStart> {
    if (this.closed) throw new RunnerClosedError();
    const now = this.clock.now();
    const run: Run = {
      id: randomUUID(),
      job: job.name,
      trigger,
      status: 'running',
      scheduledFor: (scheduledFor ?? now).toISOString(),
      startedAt: now.toISOString(),
      finishedAt: null,
      durationMs: null,
      error: null,
    };
    const running = this.active.get(job.name);
    if (running) return this.skip(run, running.runId);

    // The slot is taken before the first await, so two triggers in the same tick cannot both start.
    const controller = new AbortController();
    let settle!: () => void;
    this.active.set(job.name, { runId: run.id, controller, done: new Promise<void>((resolve) => (settle = resolve)) });
    try {
      await this.runs.insert(run);
    } catch (error) {
      this.active.delete(job.name);
      settle();
      throw error;
    }
    void this.execute(job, run, controller)
      // execute() guards each step itself; this keeps even an unforeseen failure from becoming an unhandled rejection.
      .catch((error: unknown) =>
        this.logger.error({ msg: 'run ended unexpectedly', job: job.name, runId: run.id, error: messageOf(error) }),
      )
      .finally(() => {
        this.active.delete(job.name);
        settle();
      });
    return { accepted: true, run };
  }

  /** A scheduled tick: like `start`, but nothing escapes, since there is no caller to tell. */
  async tick(job: RunnableJob, scheduledFor: Date): Promise<void> {
    try {
      await this.start(job, 'schedule', scheduledFor);
    } catch (error) {
      this.logger.error({ msg: 'scheduled run could not start', job: job.name, scheduledFor, error: messageOf(error) });
    }
  }

  /**
   * Stops new runs, waits up to `timeoutMs` for running ones, then aborts the
   * rest through their signal and gives them a moment to record how they ended.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    const pending = [...this.active.entries()];
    if (pending.length === 0) return;
    this.logger.log({
      msg: 'waiting for running jobs',
      runs: pending.map(([job, { runId }]) => ({ job, runId })),
      timeoutMs,
    });
    const allDone = Promise.all(pending.map(([, active]) => active.done));
    if (await settlesWithin(allDone, timeoutMs)) return;
    for (const [job, active] of this.active) {
      this.logger.warn({ msg: 'aborting run at shutdown timeout', job, runId: active.runId, timeoutMs });
      active.controller.abort(new Error(`shutdown: run exceeded SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms)`));
    }
    await settlesWithin(allDone, ABORT_GRACE_MS);
  }

  private async skip(run: Run, runningRunId: string): Promise<RunStart> {
    const skipped: Run = {
      ...run,
      status: 'skipped',
      finishedAt: run.startedAt,
      durationMs: 0,
      error: `skipped: run ${runningRunId} of ${run.job} is still running`,
    };
    await this.runs.insert(skipped);
    this.logger.warn({ msg: 'run skipped', job: run.job, runId: run.id, trigger: run.trigger, runningRunId });
    await this.publish('job.skipped', skipped);
    return { accepted: false, run: skipped, runningRunId };
  }

  private async execute(job: RunnableJob, run: Run, controller: AbortController): Promise<void> {
    const { id: runId, trigger } = run;
    this.logger.log({ msg: 'run started', job: job.name, runId, trigger });
    await this.publish('job.started', run);
    const context: JobContext = {
      runId,
      job: job.name,
      trigger,
      signal: controller.signal,
      progress: (percent, message) => this.progress(run, percent, message),
    };
    let outcome: Pick<Run, 'status' | 'error'>;
    try {
      await job.run(context);
      outcome = { status: 'succeeded', error: null };
    } catch (error) {
      outcome = { status: 'failed', error: messageOf(error) };
      this.logger.error({
        msg: 'run failed',
        job: job.name,
        runId,
        trigger,
        error: outcome.error,
        stack: (error as Error)?.stack,
      });
    }
    const finishedAt = this.clock.now();
    const finished: Run = {
      ...run,
      ...outcome,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - Date.parse(run.startedAt)),
    };
    try {
      await this.runs.finish(runId, finished);
    } catch (error) {
      this.logger.error({
        msg: 'run outcome could not be recorded',
        job: job.name,
        runId,
        status: finished.status,
        error: messageOf(error),
      });
    }
    if (finished.status === 'succeeded') {
      this.logger.log({ msg: 'run succeeded', job: job.name, runId, trigger, durationMs: finished.durationMs });
    }
    await this.publish(finished.status === 'succeeded' ? 'job.succeeded' : 'job.failed', finished);
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

  private publish(
    type: Extract<EventType, `job.${'started' | 'succeeded' | 'failed' | 'skipped'}`>,
    run: Run,
  ): Promise<void> {
    return this.safely(run, () => this.notifier.publish(type, toEventData(run)));
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

/** Whether `promise` settles within `ms`; the timer never outlives the answer, so it cannot hold the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const expired = delay(ms, false, { signal: timer.signal }).catch(() => false);
  const result = await Promise.race([settled, expired]);
  timer.abort();
  return result;
}

function toEventData({ id, ...rest }: Run): RunEventData {
  return { runId: id, ...rest };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
