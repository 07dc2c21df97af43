import { Inject, Injectable } from '@nestjs/common';
import { EventsRepository } from '../database/events.repository.js';
import { RunsRepository } from '../database/runs.repository.js';
import { CLIENT_PEAK, type ClientPeak } from './client-peak.js';
import { DURATION_PERCENTILES, RECENT_FAILURES, summarizeOperations } from './operations-report.js';
import type { GeneratedReport, IReportGenerator, ReportRequest } from './report-generator.js';

/** The default generator: the daily operations report of runs, failures, durations, events and clients. */
@Injectable()
export class OperationsReportGenerator implements IReportGenerator {
  constructor(
    private readonly runs: RunsRepository,
    private readonly events: EventsRepository,
    @Inject(CLIENT_PEAK) private readonly clients: ClientPeak,
  ) {}

  async generate({ periodStart, periodEnd }: ReportRequest): Promise<GeneratedReport> {
    const [from, to] = [periodStart.toISOString(), periodEnd.toISOString()];
    const [jobs, eventsByTopic] = await Promise.all([
      this.runs.summarizeStartedBetween(from, to, {
        percentiles: DURATION_PERCENTILES,
        recentFailures: RECENT_FAILURES,
      }),
      this.events.countByTopicBetween(from, to),
    ]);
    const content = summarizeOperations({
      periodStart,
      periodEnd,
      jobs,
      eventsByTopic,
      peakConnectedClients: this.clients.takePeak(),
    });
    return { title: `Daily operations report ${from} – ${to}`, content };
  }
}
