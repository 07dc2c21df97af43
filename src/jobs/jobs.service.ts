import {
  BeforeApplicationShutdown,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  ServiceUnavailableException,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronTime } from 'cron';
import { Env } from '../config/env.js';
import { RunsRepository, type Page, type Run } from '../database/runs.repository.js';
import type { RunTrigger } from '../database/schema.js';
import { toCronLibExpression } from './cron-expression.js';
import { CLEANUP_JOB } from './cleanup.job.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';
import { JOBS, type Job } from './job.js';
import { JobRunner, RunnerClosedError } from './job-runner.service.js';

export interface JobView {
  name: string;
  cron: string;
  timeZone: string;
  nextRunAt: string | null;
  running: boolean;
  lastRun: Run | null;
}

/** Knows the jobs and their schedules; the API and start-up go through it to the runner. */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly schedules: Record<string, string>;

  constructor(
    @Inject(JOBS) private readonly jobs: Job[],
    private readonly runner: JobRunner,
    private readonly runs: RunsRepository,
    private readonly registry: SchedulerRegistry,
    private readonly env: Env,
  ) {
    this.schedules = { [DAILY_REPORT_JOB]: env.DAILY_REPORT_CRON, [CLEANUP_JOB]: env.CLEANUP_CRON };
  }

  /**
   * `@nestjs/schedule` (a global module, so bootstrapped first) has mounted each
   * `@Cron` with its default; here every job gets its configured schedule.
   */
  onApplicationBootstrap(): void {
    const names = new Set<string>();
    for (const job of this.jobs) {
      if (names.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
      names.add(job.name);
      const cron = this.schedules[job.name];
      if (cron === undefined) throw new Error(`job "${job.name}" has no schedule`);
      this.registry.getCronJob(job.name).setTime(new CronTime(toCronLibExpression(cron), this.env.JOBS_TIME_ZONE));
      this.logger.log({ msg: 'job scheduled', job: job.name, cron, timeZone: this.env.JOBS_TIME_ZONE });
    }
  }

  /** Stops the timers, then lets running jobs finish (Quartz's WaitForJobsToComplete). */
  async beforeApplicationShutdown(): Promise<void> {
    for (const job of this.jobs) await this.registry.getCronJob(job.name).stop();
    await this.runner.drain(this.env.SHUTDOWN_TIMEOUT_MS);
  }

  list(): Promise<JobView[]> {
    return Promise.all(this.jobs.map((job) => this.view(job)));
  }

  get(name: string): Promise<JobView> {
    return this.view(this.find(name));
  }

  /** Starts a run now; 409 with the running run's id if the job is busy, 503 while shutting down. */
  async trigger(name: string, trigger: RunTrigger = 'manual'): Promise<Run> {
    const job = this.find(name);
    try {
      const start = await this.runner.start(job, trigger);
      if (!start.accepted) {
        throw new ConflictException({
          statusCode: 409,
          message: `job "${name}" is already running (run ${start.runningRunId})`,
          error: 'Conflict',
          runId: start.runningRunId,
        });
      }
      return start.run;
    } catch (error) {
      if (error instanceof RunnerClosedError) throw new ServiceUnavailableException(error.message);
      throw error;
    }
  }

  runsOf(name: string, page: Page): Promise<Run[]> {
    return this.runs.listByJob(this.find(name).name, page);
  }

  private find(name: string): Job {
    const job = this.jobs.find((candidate) => candidate.name === name);
    if (!job) throw new NotFoundException(`job "${name}" does not exist`);
    return job;
  }

  private async view(job: Job): Promise<JobView> {
    const cronJob = this.registry.getCronJob(job.name);
    const next = cronJob.isActive ? cronJob.nextDate().toJSDate() : null;
    return {
      name: job.name,
      cron: this.schedules[job.name],
      timeZone: this.env.JOBS_TIME_ZONE,
      nextRunAt: next ? next.toISOString() : null,
      running: this.runner.runningRunId(job.name) !== undefined,
      lastRun: (await this.runs.latestByJob(job.name)) ?? null,
    };
  }
}
