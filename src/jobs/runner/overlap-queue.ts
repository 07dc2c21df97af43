import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { messageOf } from '../../common/errors.js';
import type { InsertConflict, InsertOptions, Run } from '../../database/runs.repository.js';
import type { RunnableJob } from '../job.js';
import type { JobOptions } from '../job-options.js';
import { RunLedger } from './run-ledger.js';
import { RunSlots } from './run-slots.js';

interface QueuedRun {
  job: RunnableJob;
  options: JobOptions;
  run: Run;
}

/** How often a queued run checks whether the run ahead of it, on any replica, has ended. */
export const QUEUE_POLL_MS = 1000;

/**
 * The runs waiting behind a job's running run (overlap `queue`): one at most
 * per job in the whole cluster, the database's unique index says which. A
 * queued run begins on the replica that queued it, as soon as no run of its
 * job is running anywhere: tried when a local run ends, and every
 * QUEUE_POLL_MS for runs on other replicas.
 */
@Injectable()
export class OverlapQueue implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OverlapQueue.name);
  /** Runs this process queued, by job. */
  private readonly queued = new Map<string, QueuedRun>();
  /** Promotions of queued runs in flight, by job: one at a time each. */
  private readonly promotions = new Map<string, Promise<void>>();
  private poll?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly ledger: RunLedger,
    private readonly slots: RunSlots,
  ) {
    slots.onFreed((jobName) => this.promote(jobName));
  }

  onApplicationBootstrap(): void {
    this.poll = setInterval(() => this.queued.forEach((_, jobName) => this.promote(jobName)), QUEUE_POLL_MS);
    this.poll.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.poll);
  }

  /** The runs this process has queued. */
  runIds(): string[] {
    return [...this.queued.values()].map(({ run }) => run.id);
  }

  /**
   * Records the run as queued behind the job's running run (`runningRunId`),
   * announces it and resolves it; or resolves why not: `busy` when a run of
   * the job is queued already, here or elsewhere, `claimed` when another
   * replica recorded this tick.
   */
  async enqueue(
    job: RunnableJob,
    options: JobOptions,
    run: Run,
    claim: InsertOptions,
    runningRunId: string,
  ): Promise<Run | InsertConflict> {
    if (this.queued.has(job.name)) return 'busy';
    const queued: Run = { ...run, status: 'queued' };
    // Held before the insert, so a second local request in the meantime is skipped rather than queued too.
    this.queued.set(job.name, { job, options, run: queued });
    const conflict = await this.ledger.open(queued, claim).catch((error: unknown) => {
      this.queued.delete(job.name);
      throw error;
    });
    if (conflict) {
      this.queued.delete(job.name);
      return conflict;
    }
    this.logger.log({
      msg: 'run queued',
      job: job.name,
      runId: run.id,
      trigger: run.trigger,
      attempt: run.attempt,
      node: run.node,
      behind: runningRunId,
    });
    await this.ledger.publish('job.queued', queued);
    this.promote(job.name);
    return queued;
  }

  /** Begins the job's queued run unless a run of the job is running (here it is known; elsewhere the database says). */
  promote(jobName: string): void {
    const waiting = this.queued.get(jobName);
    if (!waiting || this.closed || this.slots.has(jobName) || this.promotions.has(jobName)) return;
    this.promotions.set(
      jobName,
      this.begin(waiting).finally(() => this.promotions.delete(jobName)),
    );
  }

  /** Promotes no more runs; resolves once the promotions in flight are over (each began or stayed queued). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.promotions.values());
  }

  /** Records the queued runs skipped, as shutdown came before they began. */
  async dropAll(): Promise<void> {
    const waiting = [...this.queued.values()];
    this.queued.clear();
    for (const { run } of waiting) await this.ledger.dropQueued(run);
  }

  /** Forgets the queued run `runId` (another replica marked it abandoned); resolves its job if it was queued here. */
  forget(runId: string): string | undefined {
    for (const [jobName, { run }] of this.queued) {
      if (run.id !== runId) continue;
      this.queued.delete(jobName);
      return jobName;
    }
    return undefined;
  }

  private async begin({ job, options, run }: QueuedRun): Promise<void> {
    let begun;
    try {
      begun = await this.ledger.begin(run);
    } catch (error) {
      this.logger.error({ msg: 'queued run could not start', job: job.name, runId: run.id, error: messageOf(error) });
      return;
    }
    if (begun === 'busy') return;
    this.queued.delete(job.name);
    if (begun === 'gone') {
      this.logger.warn({ msg: 'queued run is no longer queued', job: job.name, runId: run.id });
      return;
    }
    this.slots.launch(job, begun, options);
  }
}
