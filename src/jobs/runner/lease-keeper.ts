import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { messageOf } from '../../common/errors.js';
import { Env } from '../../config/env.js';
import { RunAbort } from './attempt.js';
import { OverlapQueue } from './overlap-queue.js';
import { RunLedger } from './run-ledger.js';
import { RunSlots } from './run-slots.js';

/** Leases are renewed this often per lease, so one late renewal does not lose a run. */
const RENEWALS_PER_LEASE = 3;
/** Sweeps run this often per lease, so a dead replica's run is abandoned soon after its lease expires. */
const SWEEPS_PER_LEASE = 5;

/**
 * Keeps the leases of this process's running and queued runs fresh, stops a
 * run whose lease another replica found expired, and marks the runs whose
 * lease expired (their process stopped) abandoned: once at start-up, then
 * every fifth of a lease. Its timers run from bootstrap until the
 * application shuts down, after the drain, so leases stay fresh while runs
 * finish.
 */
@Injectable()
export class LeaseKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LeaseKeeper.name);
  private renewal?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly ledger: RunLedger,
    private readonly slots: RunSlots,
    private readonly queue: OverlapQueue,
    private readonly env: Env,
  ) {}

  /** The runs this process is running or has queued: their leases are its to renew, and no sweep takes them. */
  activeRunIds(): string[] {
    return [...this.slots.runIds(), ...this.queue.runIds()];
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.renewal = setInterval(() => void this.renew(), this.env.RUN_LEASE_MS / RENEWALS_PER_LEASE);
    this.renewal.unref();
    this.sweeper = setInterval(() => void this.sweep(), this.env.RUN_LEASE_MS / SWEEPS_PER_LEASE);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.renewal);
    clearInterval(this.sweeper);
  }

  private async renew(): Promise<void> {
    try {
      const lost = await this.ledger.renewLeases(this.activeRunIds());
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
    const slot = this.slots.withRun(runId);
    if (slot) {
      this.logger.warn({ msg: 'run lost its lease; stopping it', job: slot.jobName, runId });
      slot.stop();
      slot.abort(new RunAbort('interrupted', 'lease lost: another replica marked the run abandoned'));
    }
    const queuedJob = this.queue.forget(runId);
    if (queuedJob) this.logger.warn({ msg: 'queued run lost its lease; dropping it', job: queuedJob, runId });
  }

  /** Runs whose lease expired belong to a process that stopped: they end `abandoned` and no longer count as running. */
  private async sweep(): Promise<void> {
    try {
      const abandoned = await this.ledger.abandonExpired(this.activeRunIds());
      for (const run of abandoned) {
        this.logger.warn({
          msg: 'run abandoned',
          job: run.job,
          runId: run.id,
          trigger: run.trigger,
          attempt: run.attempt,
          node: run.node,
          startedAt: run.startedAt,
        });
        await this.ledger.publish('job.abandoned', run);
      }
    } catch (error) {
      this.logger.error({ msg: 'abandoned runs could not be swept', error: messageOf(error) });
    }
  }
}
