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
import { Env } from '../config/env.js';
import { RunsRepository, type Page, type Run } from '../database/runs.repository.js';
import type { RunTrigger } from '../database/schema.js';
import { CronSchedule } from '../schedules/cron-schedule.js';
import { CLEANUP_JOB } from './cleanup.job.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';
import { JOBS, type Job } from './job.js';
import { JobRunner, RunnerClosedError } from './job-runner.service.js';
import { JobScheduler } from './job-scheduler.service.js';
import { declaredSchedule, type JobSchedule } from './scheduled.decorator.js';

/** How many upcoming fire times `GET /api/jobs` lists per job. */
const UPCOMING_RUNS = 5;

export interface JobView {
  name: string;
  cron: string;
  timeZone: string;
  nextRunAt: string | null;
  /** The next fire times, from the same evaluator as the timers and the preview route. */
  nextRunsAt: string[];
  running: boolean;
  lastRun: Run | null;
}

/** Knows the jobs and their schedules; the API and start-up go through it to the runner. */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly schedules = new Map<string, JobSchedule>();

  constructor(
    @Inject(JOBS) private readonly jobs: Job[],
    private readonly runner: JobRunner,
    private readonly scheduler: JobScheduler,
    private readonly runs: RunsRepository,
    private readonly env: Env,
  ) {
    const overrides: Record<string, string | undefined> = {
      [DAILY_REPORT_JOB]: env.DAILY_REPORT_CRON,
      [CLEANUP_JOB]: env.CLEANUP_CRON,
    };
    for (const job of jobs) {
      if (this.schedules.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
      const declared = declaredSchedule(job);
      this.schedules.set(job.name, { ...declared, cron: overrides[job.name] ?? declared.cron });
    }
  }

  /** Every schedule is checked before any timer starts, so a bad one stops start-up with its job named. */
  onApplicationBootstrap(): void {
    const parsed = this.jobs.map((job) => {
      const { cron } = this.scheduleOf(job);
      try {
        return CronSchedule.parse(cron, this.env.JOBS_TIME_ZONE);
      } catch (error) {
        throw new Error(`job "${job.name}" has an invalid schedule: ${(error as Error).message}`, { cause: error });
      }
    });
    this.jobs.forEach((job, index) => {
      this.scheduler.start(job, parsed[index]);
      this.logger.log({
        msg: 'job scheduled',
        job: job.name,
        cron: parsed[index].expression,
        timeZone: this.env.JOBS_TIME_ZONE,
      });
    });
  }

  /** Stops the timers, then lets running jobs finish (Quartz's WaitForJobsToComplete). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
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

  private scheduleOf(job: Job): JobSchedule {
    return this.schedules.get(job.name)!;
  }

  private async view(job: Job): Promise<JobView> {
    const upcoming = this.scheduler.nextRuns(job.name, UPCOMING_RUNS).map((instant) => instant.toISOString());
    return {
      name: job.name,
      cron: this.scheduleOf(job).cron,
      timeZone: this.env.JOBS_TIME_ZONE,
      nextRunAt: upcoming[0] ?? null,
      nextRunsAt: upcoming,
      running: this.runner.runningRunId(job.name) !== undefined,
      lastRun: (await this.runs.latestByJob(job.name)) ?? null,
    };
  }
}
