import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { ReportsRepository, type Report } from '../database/reports.repository.js';
import type { Page } from '../common/page.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { REPORT_GENERATOR, type IReportGenerator } from './report-generator.js';

/** A first report, or one after the previous was removed, covers the last day. */
export const DEFAULT_REPORT_PERIOD_MS = 24 * 60 * 60 * 1000;

@Injectable()
export class ReportsService {
  constructor(
    private readonly reports: ReportsRepository,
    private readonly notifier: NotifierService,
    @Inject(REPORT_GENERATOR) private readonly generator: IReportGenerator,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Generates, stores and announces the report for the period since the previous report. */
  async createDailyReport(runId: string, signal: AbortSignal): Promise<Report> {
    const periodEnd = this.clock.now();
    const previous = await this.reports.latest();
    const periodStart = previous
      ? new Date(previous.periodEnd)
      : new Date(periodEnd.getTime() - DEFAULT_REPORT_PERIOD_MS);
    const generated = await this.generator.generate({ runId, periodStart, periodEnd, signal });
    const report: Report = {
      id: timeOrderedId(),
      runId,
      title: generated.title,
      periodStart: periodStart.toISOString(),
      periodEnd: periodEnd.toISOString(),
      createdAt: this.clock.now().toISOString(),
      content: generated.content,
    };
    await this.reports.insert(report);
    await this.notifier.publish('report.created', {
      reportId: report.id,
      runId,
      title: report.title,
      periodStart: report.periodStart,
      periodEnd: report.periodEnd,
    });
    return report;
  }

  list(page: Page): Promise<Report[]> {
    return this.reports.list(page);
  }

  async get(id: string): Promise<Report> {
    const report = await this.reports.findById(id);
    if (!report) throw new NotFoundException(`report "${id}" does not exist`);
    return report;
  }
}
