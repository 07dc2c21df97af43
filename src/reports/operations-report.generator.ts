import { Injectable } from '@nestjs/common';
import { EventsRepository } from '../database/events.repository.js';
import { RunsRepository } from '../database/runs.repository.js';
import { ClientPresence } from '../notifier/client-presence.service.js';
import { summarizeOperations } from './operations-report.js';
import type { GeneratedReport, IReportGenerator, ReportRequest } from './report-generator.js';

/** The default generator: the daily operations report of runs, failures, durations, events and clients. */
@Injectable()
export class OperationsReportGenerator implements IReportGenerator {
  constructor(
    private readonly runs: RunsRepository,
    private readonly events: EventsRepository,
    private readonly presence: ClientPresence,
  ) {}

  async generate({ periodStart, periodEnd }: ReportRequest): Promise<GeneratedReport> {
    const [from, to] = [periodStart.toISOString(), periodEnd.toISOString()];
    const [runs, eventsByTopic] = await Promise.all([
      this.runs.listStartedBetween(from, to),
      this.events.countByTopicBetween(from, to),
    ]);
    const content = summarizeOperations({
      periodStart,
      periodEnd,
      runs,
      eventsByTopic,
      peakConnectedClients: this.presence.takePeak(),
    });
    return { title: `Daily operations report ${from} – ${to}`, content };
  }
}
