import { Logger } from '@nestjs/common';
import { EMPTY, toArray } from 'rxjs';
import { TestClock } from '../../support/clock.js';
import { makeRun } from '../../support/factories.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import type { EventFeed } from '../../../src/notifier/event-feed.js';
import { EVENT_TOPICS, runEventData, type JobpulseEvent, type RunEventData } from '../../../src/notifier/events.js';
import { NotifierService } from '../../../src/notifier/notifier.service.js';

function runData(runId: string): RunEventData {
  return runEventData(makeRun({ id: runId, job: 'cleanup', startedAt: '2025-01-01T00:00:00.000Z' }));
}

describe('NotifierService', () => {
  /** Reads what the notifier stored, as every reader does. */
  let feed: EventFeed;
  let clock: TestClock;
  let notifier: NotifierService;
  let received: JobpulseEvent[];
  let storage: TestStorage;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date('2025-05-01T10:00:00.000Z'));
    storage = await createTestStorage(clock);
    ({ feed, notifier, published: received } = storage);
  });

  afterEach(async () => {
    await storage.close();
  });

  it('stores the event with its topic, type, time and data, and returns it with its id', async () => {
    const data = runData('run-1');

    const event = await notifier.publish('job.started', data);

    expect(event).toEqual({
      id: expect.any(Number),
      topic: 'jobs',
      type: 'job.started',
      at: '2025-05-01T10:00:00.000Z',
      data,
    });
    const stored = await feed.list(0, 10);
    expect(stored).toEqual([
      { id: event.id, topic: 'jobs', type: 'job.started', at: '2025-05-01T10:00:00.000Z', data },
    ]);
  });

  it.each([
    ['job.started', 'jobs'],
    ['job.progress', 'jobs'],
    ['job.succeeded', 'jobs'],
    ['job.failed', 'jobs'],
    ['job.skipped', 'jobs'],
    ['job.queued', 'jobs'],
    ['job.timed_out', 'jobs'],
    ['job.interrupted', 'jobs'],
    ['job.abandoned', 'jobs'],
    ['job.paused', 'jobs'],
    ['job.resumed', 'jobs'],
    ['report.created', 'reports'],
    ['cleanup.completed', 'system'],
  ])('derives the topic of %s from its type: %s', async (type, topic) => {
    // The data shape does not matter to the topic.
    const event = await notifier.publish(type as 'job.started', runData('run-x'));

    expect(event.topic).toBe(topic);
    const [stored] = await feed.list(0, 10);
    expect(stored.topic).toBe(topic);
  });

  it('knows a topic for every event type and no other', () => {
    expect(Object.keys(EVENT_TOPICS).sort()).toEqual([
      'cleanup.completed',
      'job.abandoned',
      'job.failed',
      'job.interrupted',
      'job.paused',
      'job.progress',
      'job.queued',
      'job.resumed',
      'job.skipped',
      'job.started',
      'job.succeeded',
      'job.timed_out',
      'report.created',
    ]);
  });

  it('stores and emits job.paused and job.resumed with the job and its state', async () => {
    const paused = await notifier.publish('job.paused', { job: 'cleanup', paused: true });
    const resumed = await notifier.publish('job.resumed', { job: 'cleanup', paused: false });

    expect(received).toEqual([paused, resumed]);
    expect(await feed.list(0, 10)).toEqual([
      {
        id: paused.id,
        topic: 'jobs',
        type: 'job.paused',
        at: '2025-05-01T10:00:00.000Z',
        data: { job: 'cleanup', paused: true },
      },
      {
        id: resumed.id,
        topic: 'jobs',
        type: 'job.resumed',
        at: '2025-05-01T10:00:00.000Z',
        data: { job: 'cleanup', paused: false },
      },
    ]);
  });

  it('keeps the attempt fields and nextAttemptAt of a run event', async () => {
    const data: RunEventData = {
      ...runData('run-2'),
      status: 'failed',
      error: 'boom',
      attempt: 1,
      maxAttempts: 3,
      retryOf: 'run-1',
      nextAttemptAt: '2025-05-01T10:00:01.000Z',
    };

    const event = await notifier.publish('job.failed', data);

    expect(event.data).toEqual(data);
    expect((await feed.list(0, 10))[0].data).toEqual(data);
  });

  it('gives every event a strictly greater id than the one before', async () => {
    const first = await notifier.publish('job.started', runData('run-1'));
    const second = await notifier.publish('job.progress', {
      runId: 'run-1',
      job: 'cleanup',
      percent: 50,
      message: null,
    });
    const third = await notifier.publish('cleanup.completed', {
      runId: 'run-1',
      removed: { runs: 1, reports: 2, events: 3 },
      cutoffs: { runs: 'a', reports: 'b', events: 'c' },
    });

    expect(second.id).toBeGreaterThan(first.id);
    expect(third.id).toBeGreaterThan(second.id);
  });

  it('stamps each event with the clock time at publication', async () => {
    await notifier.publish('job.started', runData('run-1'));
    clock.current = new Date('2025-05-01T10:00:05.250Z');
    await notifier.publish('job.succeeded', { ...runData('run-1'), status: 'succeeded' });

    expect(received.map((event) => event.at)).toEqual(['2025-05-01T10:00:00.000Z', '2025-05-01T10:00:05.250Z']);
  });

  it('emits each event on events$ in publication order, as stored', async () => {
    const published = [
      await notifier.publish('job.started', runData('run-1')),
      await notifier.publish('job.progress', { runId: 'run-1', job: 'cleanup', percent: 10, message: 'starting' }),
      await notifier.publish('report.created', {
        reportId: 'report-1',
        runId: 'run-1',
        title: 't',
        periodStart: '2025-04-30T10:00:00.000Z',
        periodEnd: '2025-05-01T10:00:00.000Z',
      }),
    ];

    expect(received).toEqual(published);
    expect(received.map((event) => event.type)).toEqual(['job.started', 'job.progress', 'report.created']);
    expect(await feed.list(0, 10)).toEqual(published);
  });

  it('makes stored events readable after a given id', async () => {
    const first = await notifier.publish('job.started', runData('run-1'));
    const second = await notifier.publish('job.succeeded', { ...runData('run-1'), status: 'succeeded' });
    const third = await notifier.publish('job.started', runData('run-2'));

    expect((await feed.list(first.id, 10)).map((event) => event.id)).toEqual([second.id, third.id]);
    expect((await feed.list(0, 2)).map((event) => event.id)).toEqual([first.id, second.id]);
    expect(await feed.list(third.id, 10)).toEqual([]);
  });

  it('tells the other replicas the id of each event once it is stored', async () => {
    const announced: number[] = [];
    notifier = new NotifierService(storage.events, clock, { announce: (id) => announced.push(id), announced$: EMPTY });

    const first = await notifier.publish('job.paused', { job: 'cleanup', paused: true });
    const second = await notifier.publish('job.resumed', { job: 'cleanup', paused: false });

    expect(announced).toEqual([first.id, second.id]);
    expect((await feed.list(0, 10)).map((event) => event.id)).toEqual(announced);
  });

  it('exposes events$ as an Observable that cannot publish', () => {
    expect(typeof notifier.events$.subscribe).toBe('function');
    expect('next' in notifier.events$).toBe(false);
    expect((notifier.events$ as unknown as { next?: unknown }).next).toBeUndefined();
  });

  it('completes events$ on application shutdown', async () => {
    const all = new Promise<JobpulseEvent[]>((resolve) => notifier.events$.pipe(toArray()).subscribe(resolve));
    const published = await notifier.publish('job.started', runData('run-1'));

    notifier.onApplicationShutdown();

    await expect(all).resolves.toEqual([published]);
  });

  it('completes a subscriber that arrives after shutdown at once', () => {
    notifier.onApplicationShutdown();
    let completed = false;
    notifier.events$.subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
  });
});
