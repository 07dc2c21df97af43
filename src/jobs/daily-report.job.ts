import { Injectable } from '@nestjs/common';
import { ReportsService } from '../reports/reports.service.js';
import { DEFAULT_DAILY_REPORT_CRON, type Job, type JobContext } from './job.js';
import { JobScheduler } from './job-scheduler.service.js';
import { Scheduled } from './scheduled.decorator.js';

export const DAILY_REPORT_JOB = 'daily-report';

/** Quartz's DailyReportJob: writes the operations report for the period since the previous one. */
@Injectable()
export class DailyReportJob implements Job {
  readonly name = DAILY_REPORT_JOB;

  constructor(
    private readonly scheduler: JobScheduler,
    private readonly reports: ReportsService,
  ) {}

  @Scheduled(DAILY_REPORT_JOB, DEFAULT_DAILY_REPORT_CRON)
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  async run({ runId, signal, progress }: JobContext): Promise<void> {
    await progress(0, 'generating report');
    const report = await this.reports.createDailyReport(runId, signal);
    await progress(100, `report ${report.id} stored`);
  }
}
