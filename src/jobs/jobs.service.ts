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
import { CLOCK, type Clock } from '../common/clock.js';
import { Env } from '../config/env.js';
import { JobStateRepository, type JobState } from '../database/job-state.repository.js';
import { RunsRepository, type Page, type Run } from '../database/runs.repository.js';
import { FAILED_STATUSES } from '../database/schema.js';
import { runEventData } from '../notifier/events.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { CronSchedule } from '../schedules/cron-schedule.js';
import { CLEANUP_JOB } from './cleanup.job.js';
import { DAILY_REPORT_JOB } from './daily-report.job.js';
import { JOBS, type Job } from './job.js';
import { JobRunner, messageOf, RunnerClosedError, type RunRequest } from './job-runner.service.js';
import { JobScheduler } from './job-scheduler.service.js';
import { declaredSchedule, type JobSchedule } from './scheduled.decorator.js';

/** How many upcoming fire times `GET /api/jobs` lists per job. */
const UPCOMING_RUNS = 5;
/** Sweeps run this often per lease, so a dead replica's run is abandoned soon after its lease expires. */
const SWEEPS_PER_LEASE = 5;

export interface JobView {
  name: string;
  cron: string;
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

/** Knows the jobs, their schedules and stored state; the API and start-up go through it to the runner. */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly schedules = new Map<string, JobSchedule>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(JOBS) private readonly jobs: Job[],
    private readonly runner: JobRunner,
    private readonly scheduler: JobScheduler,
    private readonly runs: RunsRepository,
    private readonly jobStates: JobStateRepository,
    private readonly notifier: NotifierService,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
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

  /**
   * Checks every schedule before any timer starts (a bad one stops start-up
   * with its job named), marks the runs of a process that died as abandoned,
   * starts the timers with each job's stored pause state, and runs once what
   * was missed while the service was down.
   */
  async onApplicationBootstrap(): Promise<void> {
    const parsed = new Map(this.jobs.map((job) => [job.name, this.parseSchedule(job)]));
    const states = await this.jobStates.ensure(
      this.jobs.map((job) => job.name),
      this.clock.now().toISOString(),
    );
    await this.sweepAbandoned();
    this.sweeper = setInterval(() => void this.sweepAbandoned(), this.env.RUN_LEASE_MS / SWEEPS_PER_LEASE);
    this.sweeper.unref();
    for (const job of this.jobs) {
      const schedule = parsed.get(job.name)!;
      const state = states.get(job.name)!;
      this.scheduler.start(job, schedule, this.scheduleOf(job), state.paused);
      this.logger.log({
        msg: 'job scheduled',
        job: job.name,
        cron: schedule.expression,
        timeZone: schedule.timeZone,
        paused: state.paused,
      });
    }
    for (const job of this.jobs) await this.catchUp(job, parsed.get(job.name)!, states.get(job.name)!);
  }

  /** Stops the timers, then lets running jobs finish (Quartz's WaitForJobsToComplete). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.scheduler.stop();
    await this.runner.drain(this.env.SHUTDOWN_TIMEOUT_MS);
  }

  list(): Promise<JobView[]> {
    return Promise.all(this.jobs.map((job) => this.view(job)));
  }

  get(name: string): Promise<JobView> {
    return this.view(this.find(name));
  }

  /** Starts a run now (even of a paused job: an operator asked for it); 409 if the job is busy, 503 while shutting down. */
  async trigger(name: string): Promise<Run> {
    const job = this.find(name);
    const run = await this.start(job, { trigger: 'manual', options: this.scheduleOf(job) });
    return run!;
  }

  /**
   * The start-up run of a job, unless a replica already ran one within
   * STARTUP_RUN_WINDOW (a rolling restart): resolves undefined then.
   */
  runAtStartup(name: string): Promise<Run | undefined> {
    const job = this.find(name);
    return this.start(job, { trigger: 'startup', options: this.scheduleOf(job) });
  }

  /** Runs a failed, timed-out, interrupted or abandoned run again, as a new run. */
  async retry(runId: string): Promise<Run> {
    const run = await this.runs.findById(runId);
    if (!run) throw new NotFoundException(`run "${runId}" does not exist`);
    if (!FAILED_STATUSES.includes(run.status)) {
      throw new ConflictException(
        `run "${runId}" is ${run.status}; only a ${FAILED_STATUSES.join(', ')} run can be retried`,
      );
    }
    const job = this.find(run.job);
    const retried = await this.start(job, { trigger: 'retry', retryOf: run.id, options: this.scheduleOf(job) });
    return retried!;
  }

  async setPaused(name: string, paused: boolean): Promise<JobView> {
    const job = this.find(name);
    // The stored state is the cluster's: only the replica that changes it announces the change.
    const changed = await this.jobStates.setPaused(name, paused, this.clock.now().toISOString());
    this.scheduler.setPaused(name, paused);
    if (changed) {
      this.logger.log({ msg: paused ? 'job paused' : 'job resumed', job: name });
      await this.notifier.publish(paused ? 'job.paused' : 'job.resumed', { job: name, paused });
    }
    return this.view(job);
  }

  runsOf(name: string, page: Page): Promise<Run[]> {
    return this.runs.listByJob(this.find(name).name, page);
  }

  /** Resolves undefined when another replica holds the request's claim (only ticks and start-up runs claim). */
  private async start(job: Job, request: RunRequest): Promise<Run | undefined> {
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

  private parseSchedule(job: Job): CronSchedule {
    try {
      return CronSchedule.parse(this.scheduleOf(job).cron, this.env.JOBS_TIME_ZONE);
    } catch (error) {
      throw new Error(`job "${job.name}" has an invalid schedule: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Quartz's smart misfire policy: the most recent fire time that passed with
   * no run (the service was down) runs once, unless it is older than
   * MISFIRE_THRESHOLD, or earlier than the job's last pause or resume (a
   * paused job's ticks are meant to be lost), or the job opted out.
   */
  private async catchUp(job: Job, schedule: CronSchedule, state: JobState): Promise<void> {
    const options = this.scheduleOf(job);
    if (state.paused || options.misfire === 'ignore') return;
    const now = this.clock.now();
    // A fire time on the start-up instant itself counts as missed: the timer is set for the one after it.
    const missed = schedule.previousBefore(new Date(now.getTime() + 1));
    if (!missed || missed.toISOString() <= state.since) return;
    const lateMs = now.getTime() - missed.getTime();
    if (lateMs > this.env.MISFIRE_THRESHOLD) {
      this.logger.warn({ msg: 'missed fire time too old to catch up', job: job.name, scheduledFor: missed, lateMs });
      return;
    }
    if (await this.runs.existsForFireTime(job.name, missed.toISOString())) return;
    this.logger.log({ msg: 'catching up a missed fire time', job: job.name, scheduledFor: missed, lateMs });
    try {
      const start = await this.runner.start(job, { trigger: 'catch-up', scheduledFor: missed, options });
      if (!start.accepted && start.reason === 'claimed') {
        this.logger.log({ msg: 'missed fire time caught up by another replica', job: job.name, scheduledFor: missed });
      }
    } catch (error) {
      this.logger.error({
        msg: 'catch-up run could not start',
        job: job.name,
        scheduledFor: missed,
        error: messageOf(error),
      });
    }
  }

  /** Runs whose lease expired belong to a process that stopped: they end `abandoned` and no longer count as running. */
  private async sweepAbandoned(): Promise<void> {
    try {
      const abandoned = await this.runs.abandonExpired(this.clock.now().toISOString(), this.runner.activeRunIds());
      for (const run of abandoned) {
        this.logger.warn({ msg: 'run abandoned', job: run.job, runId: run.id, startedAt: run.startedAt });
        await this.notifier.publish('job.abandoned', runEventData(run));
      }
    } catch (error) {
      this.logger.error({ msg: 'abandoned runs could not be swept', error: messageOf(error) });
    }
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
    const stored = await this.jobStates.isPaused(job.name);
    if (stored !== undefined) this.scheduler.setPaused(job.name, stored);
    const paused = this.scheduler.isPaused(job.name);
    const upcoming = paused
      ? []
      : this.scheduler.nextRuns(job.name, UPCOMING_RUNS).map((instant) => instant.toISOString());
    return {
      name: job.name,
      cron: this.scheduleOf(job).cron,
      timeZone: this.env.JOBS_TIME_ZONE,
      nextRunAt: upcoming[0] ?? null,
      nextRunsAt: upcoming,
      paused,
      running: (await this.runs.runningRunOf(job.name)) !== undefined,
      lastRun: (await this.runs.latestByJob(job.name)) ?? null,
    };
  }
}
