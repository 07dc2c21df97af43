import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { TestClock } from '../../support/clock.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import type { EventsRepository } from '../../../src/database/events.repository.js';
import { EventFeed } from '../../../src/notifier/event-feed.js';
import type { JobpulseEvent, Topic } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';

const AT = '2025-05-01T10:00:00.000Z';

describe('EventFeed', () => {
  let storage: TestStorage;
  let events: EventsRepository;
  let notifier: NotifierService;
  let feed: EventFeed;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    storage = await createTestStorage(new TestClock(new Date(AT)));
    ({ events, notifier, feed } = storage);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await storage.close();
  });

  const publish = (job: string) => notifier.publish('job.paused', { job, paused: true });
  const storeRow = (type: string, topic = 'jobs') => events.insert({ topic, type, at: AT, data: { job: 'x' } });

  async function readAll(read: AsyncIterable<JobpulseEvent>): Promise<number[]> {
    const ids: number[] = [];
    for await (const event of read) ids.push(event.id);
    return ids;
  }

  it('lists the events after an id, oldest first, up to a limit, as they were published', async () => {
    const [first, second, third] = [await publish('a'), await publish('b'), await publish('c')];

    await expect(feed.list(0, 10)).resolves.toEqual([first, second, third]);
    await expect(feed.list(first.id, 1)).resolves.toEqual([second]);
    await expect(feed.list(third.id, 10)).resolves.toEqual([]);
  });

  it('reads every event after an id across batches', async () => {
    const ids = [];
    for (const job of ['a', 'b', 'c', 'd', 'e']) ids.push((await publish(job)).id);
    const reads = jest.spyOn(events, 'listAfter');

    await expect(readAll(feed.readAfter(ids[0], 2))).resolves.toEqual(ids.slice(1));
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it('reads the events of some topics in an id range', async () => {
    const job = await publish('a');
    const report = await notifier.publish('report.created', {
      reportId: 'r',
      runId: null,
      title: 't',
      periodStart: AT,
      periodEnd: AT,
    });
    const cleanup = await notifier.publish('cleanup.completed', {
      runId: 'run',
      removed: { runs: 0, reports: 0, events: 0 },
      cutoffs: { runs: AT, reports: AT, events: AT },
    });
    await publish('after the range');
    const topics: Topic[] = ['jobs', 'system'];

    await expect(readAll(feed.readBetween(0, cleanup.id, topics, 1))).resolves.toEqual([job.id, cleanup.id]);
    await expect(readAll(feed.readBetween(job.id, cleanup.id, ['reports'], 10))).resolves.toEqual([report.id]);
  });

  it('passes over rows of a type it does not know, or on the wrong topic, and reads on past them', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const before = await publish('a');
    const unknown = await storeRow('job.teleported');
    const misfiled = await storeRow('job.paused', 'reports');
    const after = await publish('b');

    await expect(feed.list(0, 10)).resolves.toEqual([before, after]);
    await expect(readAll(feed.readAfter(0, 2))).resolves.toEqual([before.id, after.id]);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      { msg: 'stored event of an unknown type passed over', id: unknown, type: 'job.teleported' },
      { msg: 'stored event of an unknown type passed over', id: misfiled, type: 'job.paused' },
    ]);
  });

  it('tells the oldest and the newest stored ids', async () => {
    await expect(feed.oldestId()).resolves.toBeNull();
    await expect(feed.latestId()).resolves.toBe(0);
    const [first, , last] = [await publish('a'), await publish('b'), await publish('c')];

    await expect(feed.oldestId()).resolves.toBe(first.id);
    await expect(feed.latestId()).resolves.toBe(last.id);
  });

  it("carries this process's events as published and the ids other replicas announce", async () => {
    const announced = new Subject<number>();
    feed = new EventFeed(events, notifier, { announce: () => undefined, announced$: announced });
    const published: JobpulseEvent[] = [];
    const hints: number[] = [];
    feed.published$.subscribe((event) => published.push(event));
    feed.storedByReplicas$.subscribe((id) => hints.push(id));

    const event = await publish('a');
    announced.next(41);

    expect(published).toEqual([event]);
    expect(hints).toEqual([41]);
  });
});
