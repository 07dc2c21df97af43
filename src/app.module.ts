import { DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Clock } from './common/clock.js';
import { ApiDocsModule } from './api-docs/api-docs.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import type { Env } from './config/env.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LimitsModule } from './limits/limits.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import type { IReportGenerator } from './reports/report-generator.js';
import { SchedulesModule } from './schedules/schedules.module.js';

export interface AppOptions {
  env: Env;
  clock?: Clock;
  /** Replaces the default daily operations report generator. */
  reportGenerator?: Type<IReportGenerator>;
  /** Modules of your own: every `@Job` method on their providers is found and run like the built-in jobs. */
  imports?: ModuleMetadata['imports'];
}

@Module({})
export class AppModule {
  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.env, options.clock),
        LoggingModule.forRoot(options.env),
        // First, so that its guard runs before any other: the rate limits count by the user it finds.
        AuthModule,
        LimitsModule,
        ScheduleModule.forRoot(),
        SchedulesModule,
        JobsModule.forRoot({ reportGenerator: options.reportGenerator }),
        GatewayModule,
        HealthModule,
        MetricsModule,
        ApiDocsModule,
        ...(options.imports ?? []),
      ],
    };
  }
}
