import { DynamicModule, Module, Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Clock } from './common/clock.js';
import { ConfigModule } from './config/config.module.js';
import type { Env } from './config/env.js';
import { DatabaseModule } from './database/database.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { NotifierModule } from './notifier/notifier.module.js';
import type { Job } from './jobs/job.js';
import type { IReportGenerator } from './reports/report-generator.js';
import { ReportsModule } from './reports/reports.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';

export interface AppOptions {
  env: Env;
  clock?: Clock;
  /** Replaces the default daily operations report generator. */
  reportGenerator?: Type<IReportGenerator>;
  /** Jobs of your own, scheduled and run like the built-in ones. */
  jobs?: Type<Job>[];
}

@Module({})
export class AppModule {
  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.env, options.clock),
        DatabaseModule,
        NotifierModule,
        ScheduleModule.forRoot(),
        ReportsModule.forRoot({ generator: options.reportGenerator }),
        SchedulesModule,
        JobsModule.forRoot({ jobs: options.jobs }),
        GatewayModule,
        HealthModule,
      ],
    };
  }
}
