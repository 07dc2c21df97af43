import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronTime } from 'cron';
import { CLOCK, type Clock } from '../common/clock.js';
import { JobStateRepository } from '../database/job-state.repository.js';
import type { CronSchedule } from '../schedules/cron-schedule.js';
import type { Job } from './job.js';
import { JobRunner, messageOf } from './job-runner.service.js';
import type { JobOptions } from './job-options.js';

interface Timer {
  job: Job;
  schedule: CronSchedule;
  options: JobOptions;
  /**
   * A paused job's timer keeps going, but its ticks start no run and leave no
   * record. The last state known here: each tick reads the stored one, which
   * any replica may have changed.
   */
  paused: boolean;
  /** The fire time the timer is set for; null when the schedule has none left. */
  fireAt: Date | null;
}

/**
 * Fires each job at the times its `CronSchedule` computes, through the timer
 * `@Scheduled` registered in `@nestjs/schedule`'s registry: the timer is set
 * for one fire time, and set again for the next one each time it fires.
 */
@Injectable()
export class JobScheduler {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly timers = new Map<string, Timer>();

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly runner: JobRunner,
    private readonly jobStates: JobStateRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  start(job: Job, schedule: CronSchedule, options: JobOptions, paused: boolean): void {
    const timer: Timer = { job, schedule, options, paused, fireAt: null };
    this.timers.set(job.name, timer);
    this.setTimer(timer, this.clock.now());
  }

  /** Called by a job's `@Scheduled` method when its timer fires. */
  async fire(job: Job): Promise<void> {
    const timer = this.timers.get(job.name);
    if (!timer?.fireAt) return;
    const scheduledFor = timer.fireAt;
    // A timer that fires late still counts for its fire time; the fire times it
    // slept through are not made up, as Quartz's smart misfire policy does.
    const now = this.clock.now();
    this.setTimer(timer, now > scheduledFor ? now : scheduledFor);
    if (await this.refreshPaused(timer)) {
      this.logger.debug({ msg: 'tick of paused job ignored', job: job.name, scheduledFor });
      return;
    }
    await this.runner.tick(job, scheduledFor, timer.options);
  }

  /** The stored pause state, or the last one known when it cannot be read (the tick's claim will fail then anyway). */
  private async refreshPaused(timer: Timer): Promise<boolean> {
    try {
      timer.paused = (await this.jobStates.isPaused(timer.job.name)) ?? timer.paused;
    } catch (error) {
      this.logger.warn({ msg: 'pause state could not be read', job: timer.job.name, error: messageOf(error) });
    }
    return timer.paused;
  }

  setPaused(jobName: string, paused: boolean): void {
    const timer = this.timers.get(jobName);
    if (timer) timer.paused = paused;
  }

  isPaused(jobName: string): boolean {
    return this.timers.get(jobName)?.paused ?? false;
  }

  /** The next `count` fire times after now; empty when the schedule has none left. */
  nextRuns(jobName: string, count: number): Date[] {
    const timer = this.timers.get(jobName);
    return timer ? timer.schedule.nextRuns(count, this.clock.now()) : [];
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.values()) {
      timer.fireAt = null;
      await this.registry.getCronJob(timer.job.name).stop();
    }
  }

  private setTimer(timer: Timer, after: Date): void {
    const cronJob = this.registry.getCronJob(timer.job.name);
    // The `cron` library refuses a time already past on the real clock (and would stay stopped), so never arm one.
    timer.fireAt = timer.schedule.nextAfter(new Date(Math.max(after.getTime(), Date.now())));
    if (!timer.fireAt) {
      void cronJob.stop();
      this.logger.log({
        msg: 'schedule has no further fire times',
        job: timer.job.name,
        cron: timer.schedule.expression,
      });
      return;
    }
    cronJob.setTime(new CronTime(timer.fireAt));
    try {
      cronJob.start();
    } catch (error) {
      // The fire time passed while the timer was being armed (a busy event loop): it fires now instead.
      if (timer.fireAt.getTime() > Date.now()) throw error;
      setImmediate(() => void this.fire(timer.job));
    }
  }
}
