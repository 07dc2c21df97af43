import { type MiddlewareConsumer, Module, type NestModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClientPresenceModule } from '../gateway/client-presence.module.js';
import { RunnerModule } from '../jobs/runner/runner.module.js';
import { NotifierModule } from '../notifier/notifier.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

/**
 * GET /metrics: this process's runs, events, sockets and HTTP requests, in
 * Prometheus's text format. Exports MetricsService: its `events` is the
 * DeliveryObserver of the gateway's event delivery.
 */
@Module({
  imports: [NotifierModule, ClientPresenceModule, RunnerModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsTokenGuard],
  exports: [MetricsService],
})
export class MetricsModule implements NestModule, OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Every request, matched or not, on every route, before guards run. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(this.metrics.http.middleware).forRoutes('*');
  }

  /** Nest mounts the routes before module init and its 404 handler after: what is mounted here comes between. */
  onModuleInit(): void {
    this.adapterHost.httpAdapter?.use(this.metrics.http.markUnmatched);
  }
}
