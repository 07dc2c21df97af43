import { Logger } from '@nestjs/common';
import { TestClock } from '../../../test/support/clock.js';
import { loadEnv } from '../../config/env.js';
import type { JobState } from '../../database/job-state.repository.js';
import type { RunsRepository } from '../../database/runs.repository.js';
import { CronSchedule } from '../../schedules/cron-schedule.js';
import type { JobOptions } from '../job-options.js';
import type { ScheduledJobDefinition } from '../registry/job-definition.js';
import type { JobRunner, RunRequest, RunStart } from '../runner/job-runner.js';
import { CatchUp } from './catch-up.js';

const FIRST_BOOT = '2025-01-01T05:30:00.000Z';
const NOW = '2025-01-01T08:20:00.000Z';
const HOURLY = '0 0 * * * ?';

function scheduled(cron: string, options: JobOptions = {}, name = 'hourly'): ScheduledJobDefinition {
  return {
    name,
    schedule: CronSchedule.parse(cron),
    timeZone: 'UTC',
    options,
    source: `TestJobs.${name}`,
    run: () => Promise.resolve(),
  };
}

const state = (since = FIRST_BOOT, paused = false): JobState => ({ name: 'hourly', paused, since });

describe('CatchUp', () => {
  let clock: TestClock;
  let started: { job: string; request: RunRequest }[];
  let startOutcome: () => Promise<RunStart>;
  /** `<job>@<fire time>` of the runs a tick or catch-up already recorded. */
  let recordedFireTimes: Set<string>;
  let runsReadable: boolean;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new TestClock(new Date(NOW));
    started = [];
    startOutcome = () => Promise.reject(new Error('set by the spec'));
    recordedFireTimes = new Set();
    runsReadable = true;
  });

  function catchUp(env: Record<string, string> = {}): CatchUp {
    const runner: Pick<JobRunner, 'start'> = {
      start: (job, request) => {
        started.push({ job: job.name, request });
        return startOutcome();
      },
    };
    const runs: Pick<RunsRepository, 'existsForFireTime'> = {
      existsForFireTime: (job, scheduledFor) =>
        runsReadable
          ? Promise.resolve(recordedFireTimes.has(`${job}@${scheduledFor}`))
          : Promise.reject(new Error('database down')),
    };
    startOutcome = () => Promise.resolve({ accepted: false, reason: 'claimed' });
    return new CatchUp(runner as JobRunner, runs as RunsRepository, loadEnv(env), clock);
  }

  const caughtUp = () => started.map(({ job, request }) => [job, request.trigger, request.scheduledFor?.toISOString()]);

  it('runs the most recent fire time missed while the service was down, once, as catch-up', async () => {
    await catchUp().run(scheduled(HOURLY), state());

    // 06:00, 07:00 and 08:00 passed while it was down: only 08:00 is made up.
    expect(caughtUp()).toEqual([['hourly', 'catch-up', '2025-01-01T08:00:00.000Z']]);
  });

  it("runs the catch-up with the job's options", async () => {
    const options: JobOptions = { retries: 2, timeoutMs: 1000 };

    await catchUp().run(scheduled('0 0 7 * * ?', options), state());

    expect(started[0].request).toEqual({
      trigger: 'catch-up',
      scheduledFor: new Date('2025-01-01T07:00:00.000Z'),
      options,
    });
  });

  it.each([
    ['1h', []],
    ['7199999', []],
    ['2h', ['catch-up']],
    ['3h', ['catch-up']],
  ])('with MISFIRE_THRESHOLD=%s, a fire time missed by 2 hours gets the runs %j', async (threshold, triggers) => {
    clock.set('2025-01-01T09:00:00.000Z');

    await catchUp({ MISFIRE_THRESHOLD: threshold }).run(scheduled('0 0 7 * * ?'), state());

    expect(started.map(({ request }) => request.trigger)).toEqual(triggers);
  });

  it.each([
    ['2025-01-07T06:59:00.000Z', ['2025-01-06T07:00:00.000Z']],
    ['2025-01-07T07:01:00.000Z', []],
  ])('with the default threshold of 24 hours, a restart at %s catches up %j', async (restartAt, fireTimes) => {
    // Monday 6 January 07:00 passes while the service is down.
    clock.set(restartAt);

    await catchUp().run(scheduled('0 0 7 ? * MON'), state('2025-01-06T06:00:00.000Z'));

    expect(started.map(({ request }) => request.scheduledFor?.toISOString())).toEqual(fireTimes);
  });

  it('does not catch up a fire time that a tick or an earlier catch-up already recorded', async () => {
    recordedFireTimes.add('hourly@2025-01-01T08:00:00.000Z');

    await catchUp().run(scheduled(HOURLY), state());

    expect(started).toEqual([]);
  });

  it('does not catch up a paused job', async () => {
    await catchUp().run(scheduled(HOURLY), state(FIRST_BOOT, true));

    expect(started).toEqual([]);
  });

  it('does not catch up a fire time that passed before the job was last paused or resumed', async () => {
    await catchUp().run(scheduled(HOURLY), state('2025-01-01T08:10:00.000Z'));

    expect(started).toEqual([]);
  });

  it("does not catch up a job declared with misfire 'ignore'", async () => {
    await catchUp().run(scheduled(HOURLY, { misfire: 'ignore' }), state());

    expect(started).toEqual([]);
  });

  it('does not catch up on the very first start, when the job is first seen now', async () => {
    await catchUp().run(scheduled(HOURLY), state(NOW));

    expect(started).toEqual([]);
  });

  it('catches up a fire time that falls exactly on the start-up instant (the timer is set for the next one)', async () => {
    clock.set('2025-01-01T08:00:00.000Z');

    await catchUp().run(scheduled(HOURLY), state('2025-01-01T07:30:00.000Z'));

    expect(caughtUp()).toEqual([['hourly', 'catch-up', '2025-01-01T08:00:00.000Z']]);
  });

  it('lets nothing escape when the run cannot start', async () => {
    const subject = catchUp();
    startOutcome = () => Promise.reject(new Error('database down'));

    await expect(subject.run(scheduled(HOURLY), state())).resolves.toBeUndefined();
    expect(started).toHaveLength(1);
  });

  it('lets nothing escape when the runs cannot be read, starting nothing', async () => {
    const subject = catchUp();
    runsReadable = false;

    await expect(subject.run(scheduled(HOURLY), state())).resolves.toBeUndefined();
    expect(started).toHaveLength(0);
  });
});
