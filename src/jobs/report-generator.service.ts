import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Env } from '../config/env.js';
import { messageOf } from './job-runner.service.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';
import { JobsService } from './jobs.service.js';

/**
 * The hosted ReportGeneratorService of the original app: one daily report at
 * start-up, started without being awaited so the server begins listening at once.
 */
@Injectable()
export class ReportGeneratorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportGeneratorService.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.REPORT_ON_STARTUP) return;
    this.jobs.trigger(DAILY_REPORT_JOB, 'startup').then(
      (run) => this.logger.log({ msg: 'start-up report requested', job: DAILY_REPORT_JOB, runId: run.id }),
      (error) =>
        this.logger.error({ msg: 'start-up report could not start', job: DAILY_REPORT_JOB, error: messageOf(error) }),
    );
  }
}
