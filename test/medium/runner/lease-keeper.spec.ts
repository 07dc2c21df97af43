import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Run, RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { runEventData, type JobpulseEvent } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';
import { TestClock } from '../../support/clock.js';
import { leaseOf } from '../../support/database.js';
import { abortableJob, controlledJob, makeRun, RUN_STARTED_AT } from '../../support/factories.js';
import {
  createTestRunner,
  startOn,
  testRunnerEnv,
  typesOf,
  useFakeTimers,
  type TestRunner,
} from '../../support/runner.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/** Leases on a real database: renewed while runs go on, lost to another replica's sweep, swept when expired. */
describe('LeaseKeeper on a database', () => {
  let storage: TestStorage;
  let db: Kysely<Database>;
  let runs: RunsRepository;
  let notifier: NotifierService;
  let published: JobpulseEvent[];
  let clock: TestClock;
  let parts: TestRunner;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    useFakeTimers();
    clock = new TestClock(new Date(RUN_STARTED_AT));
    storage = await createTestStorage(clock);
    ({ db, runs, notifier, published } = storage);
    parts = createTestRunner({ runs, notifier, clock, env: testRunnerEnv({ RUN_LEASE_MS: '3000' }) });
  });

  afterEach(async () => {
    jest.useRealTimers();
    await parts.close();
    await storage.close();
  });

  /** A run of a process that stopped: recorded with a lease that ran out a millisecond ago. */
  async function leftBehind(fields: Partial<Run>): Promise<Run> {
    const run = makeRun({ node: 'replica-z', ...fields });
    await runs.insert(run, { leaseUntil: '2025-01-01T07:59:59.999Z' });
    return run;
  }

  function abandonedEvents(): JobpulseEvent[] {
    return published.filter((event) => event.type === 'job.abandoned');
  }

  describe('the sweep at bootstrap', () => {
    it('marks the running run of a process that stopped abandoned, and announces it', async () => {
      const dead = await leftBehind({ id: 'dead' });

      await parts.bootstrap();

      const abandoned: Run = {
        ...dead,
        status: 'abandoned',
        finishedAt: RUN_STARTED_AT,
        error: 'lease expired: the process running it stopped',
      };
      expect(await runs.findById('dead')).toEqual(abandoned);
      expect(await leaseOf(db, 'dead')).toBeNull();
      expect(abandonedEvents().map((event) => event.data)).toEqual([runEventData(abandoned)]);
    });

    it('marks the queued run of a process that stopped abandoned too', async () => {
      await leftBehind({ id: 'dead-queued', status: 'queued' });

      await parts.bootstrap();

      expect(await runs.findById('dead-queued')).toMatchObject({ status: 'abandoned', finishedAt: RUN_STARTED_AT });
      expect(abandonedEvents().map((event) => event.data)).toEqual([
        expect.objectContaining({ runId: 'dead-queued', status: 'abandoned' }),
      ]);
    });

    it('leaves a run whose lease has not expired, and an ended run, alone', async () => {
      const live = makeRun({ id: 'elsewhere' });
      await runs.insert(live, { leaseUntil: RUN_STARTED_AT });
      const done = makeRun({ id: 'done', status: 'succeeded' });
      await runs.insert(done);

      await parts.bootstrap();

      expect(await runs.findById('elsewhere')).toEqual(live);
      expect(await leaseOf(db, 'elsewhere')).toBe(RUN_STARTED_AT);
      expect(await runs.findById('done')).toEqual(done);
      expect(abandonedEvents()).toEqual([]);
    });

    it("does not take this process's own runs, running or queued, even with an expired lease", async () => {
      const { job, release } = controlledJob();
      const ours = await startOn(parts.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      const ourQueued = await startOn(parts.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
      await leftBehind({ id: 'dead', job: 'other' });
      // Past our leases, as after a long pause of the event loop.
      clock.advance(60_000);

      await parts.bootstrap();

      expect((await runs.findById(ours.run.id))?.status).toBe('running');
      expect((await runs.findById(ourQueued.run.id))?.status).toBe('queued');
      expect(abandonedEvents().map((event) => event.data)).toEqual([expect.objectContaining({ runId: 'dead' })]);
      release.resolve();
    });
  });

  it('sweeps again every fifth of RUN_LEASE_MS', async () => {
    await parts.bootstrap();
    await leftBehind({ id: 'dies-later' });
    clock.advance(600);
    const sweeps = jest.spyOn(runs, 'abandonExpired');

    await jest.advanceTimersByTimeAsync(600);
    await sweeps.mock.results[0]?.value;

    expect(await runs.findById('dies-later')).toMatchObject({
      status: 'abandoned',
      finishedAt: '2025-01-01T08:00:00.600Z',
    });
  });

  it('renews the leases of its running and queued runs, and not of ended ones', async () => {
    await parts.bootstrap();
    const { job, release } = controlledJob();
    const running = await startOn(parts.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
    const queued = await startOn(parts.runner, job, { trigger: 'manual', options: { overlap: 'queue' } });
    const ended = makeRun({ status: 'succeeded' });
    await runs.insert(ended, { leaseUntil: '2025-01-01T08:00:03.000Z' });
    expect(await leaseOf(db, running.run.id)).toBe('2025-01-01T08:00:03.000Z');

    clock.advance(1000);
    const renewals = jest.spyOn(runs, 'renewLeases');
    await jest.advanceTimersByTimeAsync(1000);
    await renewals.mock.results[0]?.value;

    expect(await leaseOf(db, running.run.id)).toBe('2025-01-01T08:00:04.000Z');
    expect(await leaseOf(db, queued.run.id)).toBe('2025-01-01T08:00:04.000Z');
    expect(await leaseOf(db, ended.id)).toBe('2025-01-01T08:00:03.000Z');
    release.resolve();
  });

  it('stops a run whose lease another replica found expired, and records nothing over the abandoned run', async () => {
    await parts.bootstrap();
    const job = abortableJob('sync');
    const start = await startOn(parts.runner, job, { trigger: 'manual' });
    const context = await job.entered.promise;
    const [slot] = parts.slots.all();
    // Another replica's sweep, once the lease had run out unrenewed.
    await runs.abandonExpired('2099-01-01T00:00:00.000Z', []);

    await jest.advanceTimersByTimeAsync(1000);
    await slot.done;

    expect(context.signal.aborted).toBe(true);
    expect(parts.runner.runningRunId('sync')).toBeUndefined();
    expect(await runs.findById(start.run.id)).toMatchObject({
      status: 'abandoned',
      error: 'lease expired: the process running it stopped',
    });
    expect(typesOf(published, start.run.id)).toEqual(['job.started']);
  });
});
