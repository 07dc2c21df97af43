import { Injectable, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ClientPresence } from '../gateway/client-presence.js';
import { JobRunner } from '../jobs/runner/job-runner.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { EventMetrics } from './event-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { RunMetrics } from './run-metrics.js';

/**
 * This application's metrics, in a registry of its own rather than
 * prom-client's global one, so that several applications in one process
 * (the tests) each count their own. Runs and published events are read from
 * the notifier's events; sockets from the gateway's presence count.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  private readonly registry = new Registry();
  private readonly runs: RunMetrics;
  readonly events: EventMetrics;
  readonly http: HttpMetrics;

  constructor(
    private readonly notifier: NotifierService,
    presence: ClientPresence,
    runner: JobRunner,
  ) {
    // Process metrics (CPU, memory, handles, event loop lag, GC), under the same prefix as ours.
    collectDefaultMetrics({ register: this.registry, prefix: 'jobpulse_' });
    this.runs = new RunMetrics(this.registry, () => runner.activeRunIds());
    this.events = new EventMetrics(this.registry, () => presence.connectedNow);
    this.http = new HttpMetrics(this.registry);
  }

  /** The notifier completes its events at shutdown, which ends this subscription. */
  onModuleInit(): void {
    this.notifier.events$.subscribe((event) => {
      this.runs.record(event);
      this.events.publishedEvent(event);
    });
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
