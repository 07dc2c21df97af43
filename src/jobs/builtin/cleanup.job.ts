import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock.js';
import { Env } from '../../config/env.js';
import { EventsRepository } from '../../database/events.repository.js';
import { ReportsRepository } from '../../database/reports.repository.js';
import { RunsRepository } from '../../database/runs.repository.js';
import { NotifierService } from '../../notifier/notifier.service.js';
import { Cron } from '../decorators/cron.decorator.js';
import { Job } from '../decorators/job.decorator.js';
import type { JobContext } from '../job.js';
import { retentionCutoffs } from './retention.js';

export const CLEANUP_JOB = 'cleanup';

/** Quartz's CleanupJob: removes runs, reports and events past their retention. */
@Injectable()
export class CleanupJob {
  constructor(
    private readonly runs: RunsRepository,
    private readonly reports: ReportsRepository,
    private readonly events: EventsRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Job(CLEANUP_JOB)
  @Cron('0 0 * * * ?')
  async run({ runId }: JobContext): Promise<void> {
    const cutoffs = retentionCutoffs(this.clock.now(), {
      runDays: this.env.RUN_RETENTION_DAYS,
      reportDays: this.env.REPORT_RETENTION_DAYS,
      eventHours: this.env.EVENT_RETENTION_HOURS,
    });
    const removed = {
      runs: await this.runs.deleteFinishedBefore(cutoffs.runs.toISOString()),
      reports: await this.reports.deleteCreatedBefore(cutoffs.reports.toISOString()),
      events: await this.events.deleteBefore(cutoffs.events.toISOString()),
    };
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
}
