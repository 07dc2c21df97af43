import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock.js';
import { messageOf } from '../../common/errors.js';
import type { Run } from '../../database/runs.repository.js';
import type { JobContext, RunnableJob } from '../job.js';
import type { JobOptions } from '../job-options.js';
import { abortableDelay } from './abortable-delay.js';
import { backoffDelayMs } from './backoff.js';
import { RunLedger, type Outcome } from './run-ledger.js';
import type { Slot } from './run-slots.js';

/** Why a run's signal was aborted: it decides the status the run ends with. */
export class RunAbort extends Error {
  constructor(
    readonly status: Extract<Outcome['status'], 'timed_out' | 'interrupted'>,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs a run's attempts: each with the job's timeout and the slot's abort
 * signal, recorded when it ends; while attempts fail or time out and retries
 * remain, the next one after its backoff. No job's exception escapes.
 */
@Injectable()
export class AttemptExecutor {
  private readonly logger = new Logger(AttemptExecutor.name);

  constructor(
    private readonly ledger: RunLedger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Runs the first attempt (recorded already) and the retries it earns; resolves once the last is recorded. */
  async run(job: RunnableJob, first: Run, slot: Slot, options: JobOptions = {}): Promise<void> {
    let run = first;
    for (;;) {
      const nextAttemptAt = await this.attempt(job, run, slot, options);
      if (!nextAttemptAt) return;
      const next = await this.nextAttempt(job, run, slot, nextAttemptAt);
      if (!next) return;
      run = next;
    }
  }

  /**
   * One attempt: announced, run until it settles or its signal is aborted
   * (timeout, shutdown, lost lease), recorded. Resolves with when the next
   * attempt is due, if this one failed or timed out and retries remain.
   */
  private async attempt(job: RunnableJob, run: Run, slot: Slot, options: JobOptions): Promise<Date | undefined> {
    const { timeoutMs } = options;
    // The event first: clients wait for it, and writing the log line takes longer than storing it.
    await this.ledger.publish('job.started', run);
    slot.announced();
    this.logger.log({
      msg: 'run started',
      job: job.name,
      runId: run.id,
      trigger: run.trigger,
      attempt: run.attempt,
      of: run.maxAttempts,
      node: run.node,
    });
    const context: JobContext = {
      runId: run.id,
      job: job.name,
      trigger: run.trigger,
      attempt: run.attempt,
      signal: slot.signal,
      progress: (percent, message) => this.ledger.progress(run, percent, message),
    };
    const timeout =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => slot.abort(new RunAbort('timed_out', `timed out after ${timeoutMs} ms`)), timeoutMs);
    const outcome = await outcomeOf(job, context).finally(() => clearTimeout(timeout));
    const retryable = outcome.status === 'failed' || outcome.status === 'timed_out';
    const nextAttemptAt =
      retryable && run.attempt < run.maxAttempts && !slot.stopped.aborted
        ? new Date(this.clock.now().getTime() + backoffDelayMs(options.backoff, run.attempt))
        : undefined;
    await this.ledger.finish(run, outcome, nextAttemptAt);
    return nextAttemptAt;
  }

  /** Waits out the backoff and records the next attempt; resolves undefined if there is to be none after all. */
  private async nextAttempt(job: RunnableJob, previous: Run, slot: Slot, at: Date): Promise<Run | undefined> {
    const waited = await abortableDelay(Math.max(0, at.getTime() - this.clock.now().getTime()), slot.stopped);
    if (!waited) return undefined;
    const run = this.ledger.draftRetry(previous);
    slot.nextAttempt(run.id);
    try {
      const conflict = await this.ledger.open(run);
      // Between attempts no run of the job is running, and another replica may have started one.
      if (conflict) {
        await this.ledger.skip(run, (await this.ledger.runningRunOf(job.name)) ?? 'of another replica', {});
        return undefined;
      }
    } catch (error) {
      this.logger.error({ msg: 'retry could not be recorded', job: job.name, runId: run.id, error: messageOf(error) });
      return undefined;
    }
    // A drain that began while the retry was being recorded: the attempt must not run the job during shutdown.
    if (slot.stopped.aborted) {
      await this.ledger.finish(run, { status: 'interrupted', error: 'interrupted at shutdown before the retry began' });
      return undefined;
    }
    return run;
  }
}

/** Runs the job until it settles or its signal is aborted, and says how the attempt ended. */
async function outcomeOf(job: RunnableJob, context: JobContext): Promise<Outcome> {
  const { signal } = context;
  // A job that ignores its signal may settle after the run has ended: its outcome then has no one to tell.
  const work = Promise.resolve().then(() => job.run(context));
  work.catch(() => undefined);
  try {
    await Promise.race([work, aborted(signal)]);
    return { status: 'succeeded', error: null };
  } catch (error) {
    const reason: unknown = signal.aborted ? signal.reason : error;
    if (reason instanceof RunAbort) return { status: reason.status, error: reason.message };
    return { status: 'failed', error: messageOf(error), stack: error instanceof Error ? error.stack : undefined };
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
