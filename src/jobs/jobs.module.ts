import { Module } from '@nestjs/common';
import { CleanupJob } from './cleanup.job.js';
import { DailyReportJob } from './daily-report.job.js';
import { JOBS } from './job.js';
import { JobRunner } from './job-runner.service.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { ReportGeneratorService } from './report-generator.service.js';
import { RunsController } from './runs.controller.js';

/** Needs ReportsModule (for the daily report) and ScheduleModule.forRoot() imported by the application. */
@Module({
  controllers: [JobsController, RunsController],
  providers: [
    JobRunner,
    DailyReportJob,
    CleanupJob,
    { provide: JOBS, inject: [DailyReportJob, CleanupJob], useFactory: (...jobs: unknown[]) => jobs },
    JobsService,
    ReportGeneratorService,
  ],
})
export class JobsModule {}
