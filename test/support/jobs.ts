import { Injectable } from '@nestjs/common';
import { Cron, Job, type JobContext } from '../../src/jobs/index.js';

/** Fails its first attempt of each run, succeeds on the retry; on demand only. */
@Injectable()
export class FlakyJob {
  static attempts: JobContext[] = [];

  @Job('flaky', { retries: 2, backoff: { initialMs: 100 } })
  run(context: JobContext): Promise<void> {
    FlakyJob.attempts.push(context);
    return context.attempt === 1 ? Promise.reject(new Error('upstream hiccup')) : Promise.resolve();
  }
}

/** Never finishes by itself and ignores its signal: only its timeout ends it; on demand only. */
@Injectable()
export class HangingJob {
  static signals: AbortSignal[] = [];

  @Job('hanging', { timeoutMs: 300 })
  run({ signal }: JobContext): Promise<void> {
    HangingJob.signals.push(signal);
    return new Promise(() => undefined);
  }
}

/** Due every second, takes 1.5 s: ticks overlap and are skipped. */
@Injectable()
export class SlowSkippingJob {
  @Job('slow-skip')
  @Cron('* * * * * ?')
  run(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

/** Due every second, takes 2.5 s: one tick waits in the queue, the next is skipped. */
@Injectable()
export class SlowQueueingJob {
  @Job('slow-queue', { overlap: 'queue' })
  @Cron('* * * * * ?')
  run(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 2500));
  }
}

/** Due every second and quick. */
@Injectable()
export class TickJob {
  @Job('tick')
  @Cron('* * * * * ?')
  run(): Promise<void> {
    return Promise.resolve();
  }
}

/** Due every second and quick, like `tick`: its runs show that fire times have passed. */
@Injectable()
export class TockJob {
  @Job('tock')
  @Cron('* * * * * ?')
  run(): Promise<void> {
    return Promise.resolve();
  }
}
