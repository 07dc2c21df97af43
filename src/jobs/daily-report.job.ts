import { Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { ReportsService } from '../reports/reports.service.js';
import { toCronLibExpression } from './cron-expression.js';
import { DEFAULT_DAILY_REPORT_CRON, type Job, type JobContext } from './job.js';
import { JobRunner } from './job-runner.service.js';

export const DAILY_REPORT_JOB = 'daily-report';

/** Quartz's DailyReportJob: writes the operations report for the period since the previous one. */
@Injectable()
export class DailyReportJob implements Job {
  readonly name = DAILY_REPORT_JOB;

  constructor(
    private readonly runner: JobRunner,
    private readonly reports: ReportsService,
  ) {}

  // The configured DAILY_REPORT_CRON and JOBS_TIME_ZONE replace this default at bootstrap (JobsService).
  @Cron(toCronLibExpression(DEFAULT_DAILY_REPORT_CRON), { name: DAILY_REPORT_JOB, timeZone: 'UTC' })
  onSchedule(): Promise<void> {
    return this.runner.tick(this);
  }

  async run({ runId, signal, progress }: JobContext): Promise<void> {
    await progress(0, 'generating report');
    const report = await this.reports.createDailyReport(runId, signal);
    await progress(100, `report ${report.id} stored`);
  }
}
