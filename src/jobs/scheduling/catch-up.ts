import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock.js';
import { messageOf } from '../../common/errors.js';
import { Env } from '../../config/env.js';
import type { JobState } from '../../database/job-state.repository.js';
import { RunsRepository } from '../../database/runs.repository.js';
import type { ScheduledJobDefinition } from '../registry/job-definition.js';
import { JobRunner } from '../runner/job-runner.js';

/**
 * Quartz's smart misfire policy at start-up: the most recent fire time that
 * passed with no run (the service was down) runs once, unless it is older than
 * MISFIRE_THRESHOLD, or earlier than the job's last pause or resume (a paused
 * job's ticks are meant to be lost), or the job opted out (`misfire: 'ignore'`).
 */
@Injectable()
export class CatchUp {
  private readonly logger = new Logger(CatchUp.name);

  constructor(
    private readonly runner: JobRunner,
    private readonly runs: RunsRepository,
    private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Never rejects: a job whose catch-up fails (the database is down) is logged, and the others still catch up. */
  async run(job: ScheduledJobDefinition, state: JobState): Promise<void> {
    if (state.paused || job.options.misfire === 'ignore') return;
    const now = this.clock.now();
    // A fire time on the start-up instant itself counts as missed: the timer is set for the one after it.
    const missed = job.schedule.previousBefore(new Date(now.getTime() + 1));
    if (!missed || missed.toISOString() <= state.since) return;
    const lateMs = now.getTime() - missed.getTime();
    if (lateMs > this.env.MISFIRE_THRESHOLD) {
      this.logger.warn({ msg: 'missed fire time too old to catch up', job: job.name, scheduledFor: missed, lateMs });
      return;
    }
    try {
      if (await this.runs.existsForFireTime(job.name, missed.toISOString())) return;
      this.logger.log({ msg: 'catching up a missed fire time', job: job.name, scheduledFor: missed, lateMs });
      const start = await this.runner.start(job, { trigger: 'catch-up', scheduledFor: missed, options: job.options });
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
}
