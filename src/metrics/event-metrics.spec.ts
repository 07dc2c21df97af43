import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { EventDelivery, type StoredEvents, type Subscriber } from '../gateway/event-delivery.js';
import { eventOf, type JobpulseEvent, type Topic } from '../notifier/events.js';
import { EventMetrics } from './event-metrics.js';
import { sampleValue } from './testing.js';

const AT = '2025-01-01T07:00:00.000Z';

function event(id: number, topic: Topic): JobpulseEvent {
  if (topic === 'reports') {
    return eventOf(id, 'report.created', AT, {
      reportId: `r${id}`,
      runId: null,
      title: 't',
      periodStart: AT,
      periodEnd: AT,
    });
  }
  return eventOf(id, 'job.paused', AT, { job: 'sync', paused: true });
}

/** The stored events, in memory; `oldest` above 1 says older ones were pruned. */
function storeOf(events: JobpulseEvent[], oldest = events[0]?.id ?? null): StoredEvents {
  return {
    readAfter: (after) => fromStore(events.filter((stored) => stored.id > after)),
    readBetween: (after, upTo, topics) =>
      fromStore(events.filter((stored) => stored.id > after && stored.id <= upTo && topics.includes(stored.topic))),
    oldestId: () => Promise.resolve(oldest),
    latestId: () => Promise.resolve(events.at(-1)?.id ?? 0),
  };
}

/** Yields the events as a read of the database would: one at a time, each after a wait. */
async function* fromStore(events: JobpulseEvent[]): AsyncGenerator<JobpulseEvent> {
  for (const stored of events) yield await Promise.resolve(stored);
}

function subscriber(): Subscriber & { sent: unknown[] } {
  const rooms = new Set<Topic>();
  const sent: unknown[] = [];
  return {
    sent,
    send: (message) => sent.push(message),
    join: (topics) => topics.forEach((topic) => rooms.add(topic)),
    leave: (topics) => topics.forEach((topic) => rooms.delete(topic)),
    has: (topic) => rooms.has(topic),
  };
}

describe('EventMetrics', () => {
  let registry: Registry;
  let connected: number;
  let metrics: EventMetrics;

  beforeEach(() => {
    registry = new Registry();
    connected = 0;
    metrics = new EventMetrics(registry, () => connected);
  });

  const value = (name: string, labels?: Record<string, string>) => sampleValue(registry, name, labels);
  const deliveryOver = (feed: StoredEvents) =>
    new EventDelivery(feed, { broadcast: () => undefined, logger: new Logger('test'), observer: metrics });

  it('has a series at 0 for every topic from the start', async () => {
    for (const name of [
      'jobpulse_events_published_total',
      'jobpulse_events_delivered_total',
      'jobpulse_events_replayed_total',
    ]) {
      const metric = await registry.getSingleMetric(name)!.get();
      expect(metric.values).toEqual(
        ['jobs', 'reports', 'system'].map((topic) => expect.objectContaining({ labels: { topic }, value: 0 })),
      );
    }
  });

  it('counts published events by topic', async () => {
    metrics.publishedEvent(event(1, 'jobs'));
    metrics.publishedEvent(event(2, 'jobs'));
    metrics.publishedEvent(event(3, 'reports'));

    await expect(value('jobpulse_events_published_total', { topic: 'jobs' })).resolves.toBe(2);
    await expect(value('jobpulse_events_published_total', { topic: 'reports' })).resolves.toBe(1);
  });

  it('reads the connected sockets at each scrape', async () => {
    connected = 3;
    await expect(value('jobpulse_connected_sockets')).resolves.toBe(3);
    connected = 1;
    await expect(value('jobpulse_connected_sockets')).resolves.toBe(1);
  });

  it('counts the live events delivery sends to the rooms, by topic', async () => {
    const stored: JobpulseEvent[] = [];
    const delivery = deliveryOver(storeOf(stored));
    await delivery.start();

    stored.push(event(1, 'jobs'), event(2, 'reports'), event(3, 'jobs'));
    delivery.published(stored[0]);
    delivery.hint(3);
    await delivery.stop();

    await expect(value('jobpulse_events_delivered_total', { topic: 'jobs' })).resolves.toBe(2);
    await expect(value('jobpulse_events_delivered_total', { topic: 'reports' })).resolves.toBe(1);
  });

  it('counts the stored events replayed to a resuming socket, by topic', async () => {
    const delivery = deliveryOver(storeOf([event(1, 'jobs'), event(2, 'reports'), event(3, 'jobs')]));
    await delivery.start();
    const socket = subscriber();
    delivery.connected(socket, 1);

    await expect(delivery.subscribe(socket, ['jobs', 'reports'])).resolves.toEqual({ replayed: 2 });
    await expect(value('jobpulse_events_replayed_total', { topic: 'jobs' })).resolves.toBe(1);
    await expect(value('jobpulse_events_replayed_total', { topic: 'reports' })).resolves.toBe(1);
    await expect(value('jobpulse_resyncs_total')).resolves.toBe(0);
  });

  it('counts resyncs, and no replay, when the events a socket missed were pruned', async () => {
    const delivery = deliveryOver(storeOf([event(5, 'jobs')], 5));
    await delivery.start();
    const socket = subscriber();
    delivery.connected(socket, 1);

    await expect(delivery.subscribe(socket, ['jobs'])).resolves.toEqual({ replayed: 0, resync: true });
    await expect(value('jobpulse_resyncs_total')).resolves.toBe(1);
    await expect(value('jobpulse_events_replayed_total', { topic: 'jobs' })).resolves.toBe(0);
  });
});
