import { DynamicModule, Module, Type } from '@nestjs/common';
import { CleanupJob } from './cleanup.job.js';
import { DailyReportJob } from './daily-report.job.js';
import { JOBS, type Job } from './job.js';
import { JobRunner } from './job-runner.service.js';
import { JobScheduler } from './job-scheduler.service.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { ReportGeneratorService } from './report-generator.service.js';
import { RunsController } from './runs.controller.js';

export interface JobsModuleOptions {
  /** Jobs of your own, beside `daily-report` and `cleanup`: classes implementing `Job` with a `@Scheduled` method. */
  jobs?: Type<Job>[];
}

/** Needs ReportsModule (for the daily report) and ScheduleModule.forRoot() imported by the application. */
@Module({})
export class JobsModule {
  static forRoot(options: JobsModuleOptions = {}): DynamicModule {
    const jobs = [DailyReportJob, CleanupJob, ...(options.jobs ?? [])];
    return {
      module: JobsModule,
      controllers: [JobsController, RunsController],
      providers: [
        JobRunner,
        JobScheduler,
        ...jobs,
        { provide: JOBS, inject: jobs, useFactory: (...instances: Job[]) => instances },
        JobsService,
        ReportGeneratorService,
      ],
    };
  }
}
