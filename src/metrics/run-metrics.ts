import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunTrigger } from '../database/schema.js';
import type { JobpulseEvent, RunEventData } from '../notifier/events.js';

/** Triggers whose runs have a fire time, so their start can be late. */
const FIRED: readonly RunTrigger[] = ['schedule', 'catch-up'];

/**
 * The runs of this process, read from the run events it publishes: each run
 * counted once, by its final status. Every attempt is a run of its own, so a
 * run that failed and was retried counts one `failed` run, then the retry's.
 */
export class RunMetrics {
  private readonly runs: Counter<'job' | 'trigger' | 'status'>;
  private readonly duration: Histogram<'job'>;
  private readonly inProgress: Gauge<'job'>;
  private readonly retries: Counter<'job'>;
  private readonly skipped: Counter<'job'>;
  private readonly abandoned: Counter<'job'>;
  private readonly scheduleLag: Histogram<'job'>;
  /** Runs announced started and not ended yet, by id: their job. */
  private readonly running = new Map<string, string>();

  /**
   * `activeRunIds` are the runs this process's runner holds: a run it no longer
   * holds, whose end was never announced (its lease was lost, or the database
   * refused the event), stops counting as in progress at the next scrape.
   */
  constructor(
    registry: Registry,
    private readonly activeRunIds: () => readonly string[],
  ) {
    const registers = [registry];
    this.runs = new Counter({
      name: 'jobpulse_runs_total',
      help: 'Runs that ended, by job, trigger and final status.',
      labelNames: ['job', 'trigger', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'jobpulse_run_duration_seconds',
      help: 'How long runs took, from start to outcome (succeeded, failed, timed_out, interrupted), by job.',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.inProgress = new Gauge({
      name: 'jobpulse_runs_in_progress',
      help: 'Runs this process is running now, by job.',
      labelNames: ['job'],
      registers,
      collect: () => this.forgetRunsNoLongerHeld(),
    });
    this.retries = new Counter({
      name: 'jobpulse_run_retries_total',
      help: 'Attempts after the first that started (automatic retries), by job.',
      labelNames: ['job'],
      registers,
    });
    this.skipped = new Counter({
      name: 'jobpulse_runs_skipped_total',
      help: 'Runs skipped because the job was still running, or dropped from the queue at shutdown, by job.',
      labelNames: ['job'],
      registers,
    });
    this.abandoned = new Counter({
      name: 'jobpulse_runs_abandoned_total',
      help: 'Runs this process marked abandoned because the process running them stopped renewing their lease, by job.',
      labelNames: ['job'],
      registers,
    });
    this.scheduleLag = new Histogram({
      name: 'jobpulse_schedule_lag_seconds',
      help: 'Run start minus fire time of scheduled and catch-up runs (first attempts), by job.',
      labelNames: ['job'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400],
      registers,
    });
  }

  /** Takes in one event this process published; other events than runs' are ignored. */
  record(event: JobpulseEvent): void {
    switch (event.type) {
      case 'job.started':
        return this.started(event.data);
      case 'job.succeeded':
      case 'job.failed':
      case 'job.timed_out':
      case 'job.interrupted':
        this.duration.observe({ job: event.data.job }, (event.data.durationMs ?? 0) / 1000);
        return this.ended(event.data);
      case 'job.skipped':
        this.skipped.inc({ job: event.data.job });
        return this.ended(event.data);
      case 'job.abandoned':
        this.abandoned.inc({ job: event.data.job });
        return this.ended(event.data);
    }
  }

  private started(run: RunEventData): void {
    this.running.set(run.runId, run.job);
    this.inProgress.inc({ job: run.job });
    if (run.attempt > 1) this.retries.inc({ job: run.job });
    else if (FIRED.includes(run.trigger)) {
      const lagMs = Date.parse(run.startedAt) - Date.parse(run.scheduledFor);
      this.scheduleLag.observe({ job: run.job }, Math.max(0, lagMs) / 1000);
    }
  }

  private ended(run: RunEventData): void {
    this.runs.inc({ job: run.job, trigger: run.trigger, status: run.status });
    if (this.running.delete(run.runId)) this.inProgress.dec({ job: run.job });
  }

  private forgetRunsNoLongerHeld(): void {
    const held = new Set(this.activeRunIds());
    for (const [runId, job] of this.running) {
      if (held.has(runId)) continue;
      this.running.delete(runId);
      this.inProgress.dec({ job });
    }
  }
}
