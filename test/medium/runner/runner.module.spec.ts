import { jest } from '@jest/globals';
import { Injectable, Logger, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule } from '../../../src/config/config.module.js';
import { createDatabase, migrateToLatest } from '../../../src/database/database.js';
import { RunsRepository } from '../../../src/database/runs.repository.js';
import { JobRunner } from '../../../src/jobs/runner/job-runner.js';
import { RunLedger } from '../../../src/jobs/runner/run-ledger.js';
import { RunnerModule } from '../../../src/jobs/runner/runner.module.js';
import { TestClock } from '../../support/clock.js';
import { temporaryDatabase, type TemporaryDatabase } from '../../support/database.js';
import { controlledJob, makeRun, RUN_STARTED_AT } from '../../support/factories.js';
import { testRunnerEnv } from '../../support/runner.js';

@Injectable()
class NeedsTheLedger {
  constructor(readonly ledger: RunLedger) {}
}

@Module({ imports: [RunnerModule], providers: [NeedsTheLedger] })
class ReachesIntoTheRunner {}

/** RunnerModule in a Nest application: its wiring, and timers that live from bootstrap to shutdown. */
describe('RunnerModule', () => {
  let database: TemporaryDatabase;
  let clock: TestClock;
  let app: TestingModule | undefined;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    database = await temporaryDatabase();
    clock = new TestClock(new Date(RUN_STARTED_AT));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
    await database.remove();
  });

  function compile(imports = [RunnerModule]): Promise<TestingModule> {
    const env = testRunnerEnv({ DATABASE_URL: database.url });
    return Test.createTestingModule({ imports: [ConfigModule.forRoot(env, clock), ...imports] }).compile();
  }

  it('runs a job through JobRunner once bootstrapped, after sweeping the runs a stopped process left', async () => {
    const previous = createDatabase(database.url);
    await migrateToLatest(previous);
    await new RunsRepository(previous).insert(makeRun({ id: 'left' }), { leaseUntil: '2025-01-01T07:59:59.999Z' });
    await previous.destroy();
    app = await compile();
    await app.init();
    const { job, release } = controlledJob();

    const start = await app.get(JobRunner).start(job, { trigger: 'manual' });

    expect((await app.get(RunsRepository).findById('left'))?.status).toBe('abandoned');
    expect(start).toMatchObject({ accepted: true, run: { status: 'running', node: 'replica-a' } });
    await job.entered.promise;
    release.resolve();
    await app.get(JobRunner).drain(1000);
  });

  it('starts its timers at bootstrap, not in constructors, and clears them at shutdown', async () => {
    const setInterval = jest.spyOn(global, 'setInterval');
    const clearInterval = jest.spyOn(global, 'clearInterval');

    app = await compile();
    expect(setInterval).not.toHaveBeenCalled();
    await app.init();
    // RUN_LEASE_MS 15 s: leases renewed every 5 s, swept every 3 s; queued runs polled every second.
    const timers = setInterval.mock.calls
      .map(([, delay], index) => [delay, setInterval.mock.results[index].value] as const)
      .filter(([delay]) => delay === 5000 || delay === 3000 || delay === 1000);
    // (On PostgreSQL, socket.io's adapter for the replica hints keeps timers of its own.)
    expect(timers.map(([delay]) => delay)).toEqual(expect.arrayContaining([1000, 3000, 5000]));
    await app.close();
    app = undefined;

    for (const [, timer] of timers) expect(clearInterval).toHaveBeenCalledWith(timer);
  });

  it('offers JobRunner only to the modules that import it', async () => {
    await expect(compile([ReachesIntoTheRunner])).rejects.toThrow(/RunLedger/);
  });
});
