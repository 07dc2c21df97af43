import { ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import type { Page } from '../common/page.js';
import { RunsRepository, type Run } from '../database/runs.repository.js';
import { FAILED_STATUSES } from '../database/schema.js';
import type { JobDefinition } from './registry/job-definition.js';
import { JobRegistry } from './registry/job-registry.js';
import { JobRunner, RunnerClosedError, type RunRequest } from './runner/job-runner.js';

/** Runs as the API and start-up ask for them: read, started now, retried; every start goes through the runner. */
@Injectable()
export class RunsService {
  constructor(
    private readonly jobs: JobRegistry,
    private readonly runner: JobRunner,
    private readonly runs: RunsRepository,
  ) {}

  async get(id: string): Promise<Run> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundException(`run "${id}" does not exist`);
    return run;
  }

  async listOf(jobName: string, page: Page): Promise<Run[]> {
    return this.runs.listByJob(this.jobs.get(jobName).name, page);
  }

  /** Starts a run now (even of a paused job: an operator asked for it); 409 if the job is busy, 503 while shutting down. */
  async trigger(jobName: string): Promise<Run> {
    const job = this.jobs.get(jobName);
    return (await this.start(job, { trigger: 'manual', options: job.options }))!;
  }

  /**
   * The start-up run of a job, unless a replica already ran one within
   * STARTUP_RUN_WINDOW (a rolling restart): resolves undefined then.
   */
  async runAtStartup(jobName: string): Promise<Run | undefined> {
    const job = this.jobs.get(jobName);
    return this.start(job, { trigger: 'startup', options: job.options });
  }

  /** Runs a failed, timed-out, interrupted or abandoned run again, as a new run. */
  async retry(runId: string): Promise<Run> {
    const run = await this.get(runId);
    if (!FAILED_STATUSES.includes(run.status)) {
      throw new ConflictException(
        `run "${runId}" is ${run.status}; only a ${FAILED_STATUSES.join(', ')} run can be retried`,
      );
    }
    const job = this.jobs.get(run.job);
    return (await this.start(job, { trigger: 'retry', retryOf: run.id, options: job.options }))!;
  }

  /** Resolves undefined when another replica holds the request's claim (only ticks and start-up runs claim). */
  private async start(job: JobDefinition, request: RunRequest): Promise<Run | undefined> {
    try {
      const start = await this.runner.start(job, request);
      if (!start.accepted && start.reason === 'claimed') return undefined;
      if (!start.accepted) {
        throw new ConflictException({
          statusCode: 409,
          message: `job "${job.name}" is already running (run ${start.runningRunId})`,
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
}
