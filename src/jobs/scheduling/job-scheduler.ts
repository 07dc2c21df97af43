import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, type Clock } from '../../common/clock.js';
import { messageOf } from '../../common/errors.js';
import { Env, MAX_TIMER_MS } from '../../config/env.js';
import { JobStateRepository, type JobState } from '../../database/job-state.repository.js';
import { isScheduled, type ScheduledJobDefinition } from '../registry/job-definition.js';
import { JobRegistry } from '../registry/job-registry.js';
import { JobRunner } from '../runner/job-runner.js';
import { afterListening } from './after-listening.js';
import { CatchUp } from './catch-up.js';

/**
 * Fires each scheduled job at the times its `CronSchedule` computes: one
 * timeout per job, set from the injected clock for its next fire time and
 * registered in `@nestjs/schedule`'s `SchedulerRegistry` under the job's name.
 */
@Injectable()
export class JobScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobScheduler.name);
  private stopped = false;

  constructor(
    private readonly jobs: JobRegistry,
    private readonly timers: SchedulerRegistry,
    private readonly runner: JobRunner,
    private readonly jobStates: JobStateRepository,
    private readonly catchUp: CatchUp,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * Records the jobs seen for the first time; once the server listens, sets the timers, then runs once what
   * was missed while the service was down.
   */
  async onApplicationBootstrap(): Promise<void> {
    const jobs = this.jobs.all();
    const states = await this.jobStates.ensure(
      jobs.map((job) => job.name),
      this.clock.now().toISOString(),
    );
    for (const job of jobs.filter((job) => !isScheduled(job))) {
      this.logger.log({ msg: 'job runs on demand only', job: job.name });
    }
    await afterListening(this.adapterHost, () => this.start(jobs.filter(isScheduled), states));
  }

  /** Stops the timers, then lets running jobs finish (Quartz's WaitForJobsToComplete). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.all()) {
      if (this.timers.doesExist('timeout', job.name)) this.timers.deleteTimeout(job.name);
    }
    await this.runner.drain(this.env.SHUTDOWN_TIMEOUT_MS);
  }

  private async start(scheduled: ScheduledJobDefinition[], states: ReadonlyMap<string, JobState>): Promise<void> {
    for (const job of scheduled) {
      this.logger.log({
        msg: 'job scheduled',
        job: job.name,
        cron: job.schedule.expression,
        timeZone: job.schedule.timeZone,
        paused: states.get(job.name)!.paused,
      });
      this.setTimerAfter(job, this.clock.now());
    }
    for (const job of scheduled) {
      await this.catchUp.run(job, states.get(job.name)!);
    }
  }

  private setTimerAfter(job: ScheduledJobDefinition, instant: Date): void {
    const fireAt = job.schedule.nextAfter(instant);
    if (fireAt) this.setTimer(job, fireAt);
    else this.logger.log({ msg: 'schedule has no further fire times', job: job.name, cron: job.schedule.expression });
  }

  private setTimer(job: ScheduledJobDefinition, fireAt: Date): void {
    if (this.stopped) return;
    // Node cuts longer delays to 1 ms: a fire time further away is reached through several timers.
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, fireAt.getTime() - this.clock.now().getTime()));
    const timer = setTimeout(() => this.onTimer(job, fireAt), delayMs);
    if (this.timers.doesExist('timeout', job.name)) this.timers.deleteTimeout(job.name);
    this.timers.addTimeout(job.name, timer);
  }

  private onTimer(job: ScheduledJobDefinition, fireAt: Date): void {
    const now = this.clock.now();
    if (now < fireAt) return this.setTimer(job, fireAt);
    // A late timer still counts for its fire time; the fire times it slept through are not made up, as Quartz's smart misfire policy does.
    this.setTimerAfter(job, now);
    void this.fire(job, fireAt);
  }

  /** A paused job's ticks start no run and leave no record; the pause state is the cluster's, read from the database. */
  private async fire(job: ScheduledJobDefinition, scheduledFor: Date): Promise<void> {
    let paused: boolean;
    try {
      paused = (await this.jobStates.isPaused(job.name)) ?? false;
    } catch (error) {
      // Logged as the runner logs a tick it cannot claim: in an outage, both are the database failing.
      this.logger.error({
        msg: 'scheduled run could not start',
        job: job.name,
        scheduledFor,
        error: messageOf(error),
      });
      return;
    }
    if (paused) this.logger.debug({ msg: 'tick of paused job ignored', job: job.name, scheduledFor });
    else await this.runner.tick(job, scheduledFor, job.options);
  }
}
