import { Injectable } from '@nestjs/common';
import type { Job, JobContext } from '../../src/jobs/job.js';
import { JobScheduler } from '../../src/jobs/job-scheduler.service.js';
import { Scheduled } from '../../src/jobs/scheduled.decorator.js';

/** Rarely due: these jobs run when a test triggers them, unless it says otherwise. */
const NEVER_DUE_IN_A_TEST = '0 0 0 1 1 ? 2199';

/** Fails its first attempt of each run, succeeds on the retry. */
@Injectable()
export class FlakyJob implements Job {
  static attempts: JobContext[] = [];
  readonly name = 'flaky';

  constructor(private readonly scheduler: JobScheduler) {}

  @Scheduled('flaky', NEVER_DUE_IN_A_TEST, { retries: 2, backoff: { initialMs: 100 } })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run(context: JobContext): Promise<void> {
    FlakyJob.attempts.push(context);
    return context.attempt === 1 ? Promise.reject(new Error('upstream hiccup')) : Promise.resolve();
  }
}

/** Never finishes by itself and ignores its signal: only its timeout ends it. */
@Injectable()
export class HangingJob implements Job {
  static signals: AbortSignal[] = [];
  readonly name = 'hanging';

  constructor(private readonly scheduler: JobScheduler) {}

  @Scheduled('hanging', NEVER_DUE_IN_A_TEST, { timeoutMs: 300 })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run({ signal }: JobContext): Promise<void> {
    HangingJob.signals.push(signal);
    return new Promise(() => undefined);
  }
}

/** Due every second, takes 1.5 s: ticks overlap and are skipped. */
@Injectable()
export class SlowSkippingJob implements Job {
  readonly name = 'slow-skip';

  constructor(private readonly scheduler: JobScheduler) {}

  @Scheduled('slow-skip', '* * * * * ?')
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

/** Due every second, takes 2.5 s: one tick waits in the queue, the next is skipped. */
@Injectable()
export class SlowQueueingJob implements Job {
  readonly name = 'slow-queue';

  constructor(private readonly scheduler: JobScheduler) {}

  @Scheduled('slow-queue', '* * * * * ?', { overlap: 'queue' })
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 2500));
  }
}

/** Due every second and quick. */
@Injectable()
export class TickJob implements Job {
  readonly name = 'tick';

  constructor(private readonly scheduler: JobScheduler) {}

  @Scheduled('tick', '* * * * * ?')
  onSchedule(): Promise<void> {
    return this.scheduler.fire(this);
  }

  run(): Promise<void> {
    return Promise.resolve();
  }
}
