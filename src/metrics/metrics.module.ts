import { Module } from '@nestjs/common';

/** GET /metrics: this process's runs, events, sockets and HTTP requests, in Prometheus's text format. */
@Module({})
export class MetricsModule {}
