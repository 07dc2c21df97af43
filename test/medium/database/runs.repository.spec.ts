import type { Run, RunsRepository } from '../../../src/database/runs.repository.js';
import type { RunTrigger } from '../../../src/database/schema.js';
import { TestClock } from '../../support/clock.js';
import { makeRun } from '../../support/factories.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

const FIRE_TIME = '2025-01-01T08:00:00.000Z';

function endedRun(id: string, trigger: RunTrigger, status: Run['status'], scheduledFor = FIRE_TIME): Run {
  return makeRun({ id, job: 'hourly', trigger, status, scheduledFor, startedAt: scheduledFor });
}

describe('RunsRepository', () => {
  let storage: TestStorage;
  let runs: RunsRepository;

  beforeEach(async () => {
    storage = await createTestStorage(new TestClock(new Date(FIRE_TIME)));
    runs = storage.runs;
  });

  afterEach(() => storage.close());

  describe('existsForFireTime', () => {
    it.each([
      ['schedule', 'succeeded'],
      ['schedule', 'skipped'],
      ['schedule', 'failed'],
      ['catch-up', 'succeeded'],
    ] as const)('finds a %s run that ended %s for the fire time', async (trigger, status) => {
      await runs.insert(endedRun('tick', trigger, status));

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(true);
    });

    it('finds a running schedule run for the fire time', async () => {
      await runs.insert({ ...endedRun('tick', 'schedule', 'running'), finishedAt: null, durationMs: null });

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(true);
    });

    it.each(['manual', 'retry', 'startup'] as const)(
      'ignores a %s run that happens to have the fire time as its scheduledFor',
      async (trigger) => {
        await runs.insert(endedRun('by-hand', trigger, 'succeeded'));

        expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(false);
      },
    );

    it('ignores the runs of other fire times and of other jobs', async () => {
      await runs.insert(endedRun('earlier', 'schedule', 'succeeded', '2025-01-01T07:00:00.000Z'));
      await runs.insert({ ...endedRun('other', 'schedule', 'succeeded'), job: 'daily' });

      expect(await runs.existsForFireTime('hourly', FIRE_TIME)).toBe(false);
    });
  });
});
