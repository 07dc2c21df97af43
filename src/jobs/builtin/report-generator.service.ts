import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { messageOf } from '../../common/errors.js';
import { Env } from '../../config/env.js';
import { RunsService } from '../runs.service.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';

/**
 * The hosted ReportGeneratorService of the original app: one daily report at
 * start-up, started without being awaited so the server begins listening at
 * once; replicas starting together (a rolling restart) make one between them.
 */
@Injectable()
export class ReportGeneratorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportGeneratorService.name);

  constructor(
    private readonly runs: RunsService,
    private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.REPORT_ON_STARTUP) return;
    this.runs.runAtStartup(DAILY_REPORT_JOB).then(
      (run) =>
        run
          ? this.logger.log({ msg: 'start-up report requested', job: DAILY_REPORT_JOB, runId: run.id })
          : this.logger.log({
              msg: 'start-up report already run by a replica within STARTUP_RUN_WINDOW',
              job: DAILY_REPORT_JOB,
            }),
      (error) =>
        this.logger.error({ msg: 'start-up report could not start', job: DAILY_REPORT_JOB, error: messageOf(error) }),
    );
  }
}
