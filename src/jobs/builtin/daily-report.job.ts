import { Injectable } from '@nestjs/common';
import { ReportsService } from '../../reports/reports.service.js';
import { Cron } from '../decorators/cron.decorator.js';
import { Job } from '../decorators/job.decorator.js';
import type { JobContext } from '../job.js';

export const DAILY_REPORT_JOB = 'daily-report';

/** Quartz's DailyReportJob: writes the operations report for the period since the previous one. */
@Injectable()
export class DailyReportJob {
  constructor(private readonly reports: ReportsService) {}

  @Job(DAILY_REPORT_JOB)
  @Cron('0 0 7 * * ?')
  async run({ runId, signal, progress }: JobContext): Promise<void> {
    await progress(0, 'generating report');
    const report = await this.reports.createDailyReport(runId, signal);
    await progress(100, `report ${report.id} stored`);
  }
}
