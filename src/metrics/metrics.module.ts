import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
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
export class MetricsModule implements NestModule {
  constructor(private readonly metrics: MetricsService) {}

  /** Every request, matched or not, on every route, before guards run. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(this.metrics.http.middleware).forRoutes('*');
  }
}
