import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock.js';
import { Env } from '../../config/env.js';
import { RetentionRepository } from '../../database/retention.repository.js';
import { NotifierService } from '../../notifier/notifier.service.js';
import { Cron } from '../decorators/cron.decorator.js';
import { Job } from '../decorators/job.decorator.js';
import type { JobContext } from '../job.js';
import { retentionCutoffs, sweep, sweptShare, type RemoveBatch, type RetentionCutoffs } from './retention.js';

export const CLEANUP_JOB = 'cleanup';

/** While a table is swept, at most one `job.progress` this often; one more as each table is done. */
const PROGRESS_INTERVAL_MS = 1_000;

const TABLES = ['runs', 'reports', 'events'] as const;
type Table = (typeof TABLES)[number];

/** Quartz's CleanupJob: removes runs, reports and events past their retention, a batch at a time. */
@Injectable()
export class CleanupJob {
  constructor(
    private readonly retention: RetentionRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Job(CLEANUP_JOB)
  @Cron('0 0 * * * ?')
  async run({ runId, signal, progress }: JobContext): Promise<void> {
    const cutoffs = retentionCutoffs(this.clock.now(), {
      runDays: this.env.RUN_RETENTION_DAYS,
      reportDays: this.env.REPORT_RETENTION_DAYS,
      eventHours: this.env.EVENT_RETENTION_HOURS,
    });
    const removeBatch = this.batchRemovers(cutoffs);
    const removed: Record<Table, number> = { runs: 0, reports: 0, events: 0 };
    let reportedAt = this.clock.now().getTime();
    for (const [done, table] of TABLES.entries()) {
      // Each table is an equal part of the whole; within one, the share of its expired span removed so far.
      const percent = (share: number) => ((done + share) / TABLES.length) * 100;
      let oldest: string | null = null;
      removed[table] = await sweep(removeBatch[table], {
        batchSize: this.retention.batchRows,
        signal,
        afterBatch: async (removedSoFar, batch) => {
          oldest ??= batch.oldest;
          const now = this.clock.now().getTime();
          if (now - reportedAt < PROGRESS_INTERVAL_MS || !oldest || !batch.newest) return;
          reportedAt = now;
          await progress(
            percent(sweptShare(oldest, batch.newest, cutoffs[table])),
            `${table}: ${removedSoFar} removed`,
          );
        },
      });
      await progress(percent(1), `${table}: ${removed[table]} removed`);
      reportedAt = this.clock.now().getTime();
    }
    await this.notifier.publish('cleanup.completed', {
      runId,
      removed,
      cutoffs: {
        runs: cutoffs.runs.toISOString(),
        reports: cutoffs.reports.toISOString(),
        events: cutoffs.events.toISOString(),
      },
    });
  }

  private batchRemovers(cutoffs: RetentionCutoffs): Record<Table, RemoveBatch> {
    return {
      runs: (limit) => this.retention.deleteExpiredRuns(cutoffs.runs.toISOString(), limit),
      reports: (limit) => this.retention.deleteExpiredReports(cutoffs.reports.toISOString(), limit),
      events: (limit) => this.retention.deleteExpiredEvents(cutoffs.events.toISOString(), limit),
    };
  }
}
