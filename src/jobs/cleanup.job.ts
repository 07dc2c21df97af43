import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { Env } from '../config/env.js';
import { EventsRepository } from '../database/events.repository.js';
import { ReportsRepository } from '../database/reports.repository.js';
import { RunsRepository } from '../database/runs.repository.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { DEFAULT_CLEANUP_CRON, type Job, type JobContext } from './job.js';
import { JobScheduler } from './job-scheduler.service.js';
import { Scheduled } from './scheduled.decorator.js';
import { retentionCutoffs } from './retention.js';

export const CLEANUP_JOB = 'cleanup';

/** Quartz's CleanupJob: removes runs, reports and events past their retention. */
@Injectable()
export class CleanupJob implements Job {
  readonly name = CLEANUP_JOB;

  constructor(
    private readonly scheduler: JobScheduler,
    private readonly runs: RunsRepository,
    private readonly reports: ReportsRepository,
    private readonly events: EventsRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Scheduled(CLEANUP_JOB, DEFAULT_CLEANUP_CRON)
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

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
