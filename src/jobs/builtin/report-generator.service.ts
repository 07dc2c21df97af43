import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { messageOf } from '../../common/errors.js';
import { Env } from '../../config/env.js';
import { RunsService } from '../runs.service.js';
import { afterListening } from '../scheduling/after-listening.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';

/**
 * The hosted ReportGeneratorService of the original app: one daily report at
 * start-up, once the server listens (a process that cannot bind its port
 * makes none), without waiting for the report; replicas starting together (a
 * rolling restart) make one between them.
 */
@Injectable()
export class ReportGeneratorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportGeneratorService.name);

  constructor(
    private readonly runs: RunsService,
    private readonly env: Env,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.env.REPORT_ON_STARTUP) await afterListening(this.adapterHost, () => this.requestReport());
  }

  /** Resolves once the run is recorded, not when the report is written. */
  private async requestReport(): Promise<void> {
    try {
      const run = await this.runs.runAtStartup(DAILY_REPORT_JOB);
      if (run) this.logger.log({ msg: 'start-up report requested', job: DAILY_REPORT_JOB, runId: run.id });
      else {
        this.logger.log({
          msg: 'start-up report already run by a replica within STARTUP_RUN_WINDOW',
          job: DAILY_REPORT_JOB,
        });
      }
    } catch (error) {
      this.logger.error({ msg: 'start-up report could not start', job: DAILY_REPORT_JOB, error: messageOf(error) });
    }
  }
}
