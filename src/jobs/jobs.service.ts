import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { JobStateRepository } from '../database/job-state.repository.js';
import { RunsRepository, type Run } from '../database/runs.repository.js';
import { NotifierService } from '../notifier/notifier.service.js';
import type { JobDefinition } from './registry/job-definition.js';
import { JobRegistry } from './registry/job-registry.js';

/** How many upcoming fire times `GET /api/jobs` lists per job. */
const UPCOMING_RUNS = 5;

export interface JobView {
  name: string;
  /** The schedule as written (or as `<JOB_NAME>_CRON` replaced it); null for a job that runs on demand only. */
  cron: string | null;
  timeZone: string;
  nextRunAt: string | null;
  /** The next fire times, from the same evaluator as the timers and the preview route. */
  nextRunsAt: string[];
  /** A paused job does not fire on schedule (no nextRunAt); a manual trigger still runs it. */
  paused: boolean;
  /** Whether a run of the job is running, on any replica. */
  running: boolean;
  lastRun: Run | null;
}

/** The catalogue of jobs with their state, and pausing: what every replica answers alike, from the database. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobRegistry,
    private readonly runs: RunsRepository,
    private readonly jobStates: JobStateRepository,
    private readonly notifier: NotifierService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  list(): Promise<JobView[]> {
    return this.views(this.jobs.all());
  }

  async get(name: string): Promise<JobView> {
    const [view] = await this.views([this.jobs.get(name)]);
    return view;
  }

  async setPaused(name: string, paused: boolean): Promise<JobView> {
    const job = this.jobs.get(name);
    // The stored state is the cluster's: only the replica that changes it announces the change.
    if (await this.jobStates.setPaused(name, paused, this.clock.now().toISOString())) {
      this.logger.log({ msg: paused ? 'job paused' : 'job resumed', job: name });
      await this.notifier.publish(paused ? 'job.paused' : 'job.resumed', { job: name, paused });
    }
    const [view] = await this.views([job]);
    return view;
  }

  /** Each kind of state in one query for all of `jobs`, however many they are. */
  private async views(jobs: JobDefinition[]): Promise<JobView[]> {
    const names = jobs.map((job) => job.name);
    const [paused, runningRuns, lastRuns] = await Promise.all([
      this.jobStates.pausedAmong(names),
      this.runs.runningRunsOf(names),
      this.runs.latestOf(names),
    ]);
    const now = this.clock.now();
    return jobs.map((job) => {
      const upcoming =
        paused.has(job.name) || !job.schedule
          ? []
          : job.schedule.nextRuns(UPCOMING_RUNS, now).map((instant) => instant.toISOString());
      return {
        name: job.name,
        cron: job.schedule?.expression ?? null,
        timeZone: job.timeZone,
        nextRunAt: upcoming[0] ?? null,
        nextRunsAt: upcoming,
        paused: paused.has(job.name),
        running: runningRuns.has(job.name),
        lastRun: lastRuns.get(job.name) ?? null,
      };
    });
  }
}
