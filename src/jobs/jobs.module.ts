import { DynamicModule, Module, Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DatabaseModule } from '../database/database.module.js';
import { NotifierModule } from '../notifier/notifier.module.js';
import type { IReportGenerator } from '../reports/report-generator.js';
import { ReportsModule } from '../reports/reports.module.js';
import { CleanupJob } from './builtin/cleanup.job.js';
import { DailyReportJob } from './builtin/daily-report.job.js';
import { ReportGeneratorService } from './builtin/report-generator.service.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobExplorer } from './registry/job-explorer.js';
import { JobRegistry } from './registry/job-registry.js';
import { RunnerModule } from './runner/runner.module.js';
import { RunsController } from './runs.controller.js';
import { RunsService } from './runs.service.js';
import { CatchUp } from './scheduling/catch-up.js';
import { JobScheduler } from './scheduling/job-scheduler.js';

export interface JobsModuleOptions {
  /** Replaces the default operations report that the `daily-report` job writes. */
  reportGenerator?: Type<IReportGenerator>;
}

/**
 * The built-in jobs, the discovery of every `@Job` method in the application,
 * their timers, and the REST routes of jobs and runs. Needs `ScheduleModule.forRoot()`
 * imported by the application, for its `SchedulerRegistry`.
 */
@Module({})
export class JobsModule {
  static forRoot(options: JobsModuleOptions = {}): DynamicModule {
    return {
      module: JobsModule,
      imports: [
        DiscoveryModule,
        DatabaseModule,
        NotifierModule,
        ReportsModule.forRoot({ generator: options.reportGenerator }),
        RunnerModule,
      ],
      controllers: [JobsController, RunsController],
      providers: [
        JobRegistry,
        JobExplorer,
        JobScheduler,
        CatchUp,
        JobsService,
        RunsService,
        DailyReportJob,
        CleanupJob,
        ReportGeneratorService,
      ],
    };
  }
}
