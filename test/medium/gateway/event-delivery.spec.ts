import { jest } from '@jest/globals';
import type { Kysely } from 'kysely';
import { TestClock } from '../../support/clock.js';
import { eventually } from '../../support/deferred.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import type { EventsRepository } from '../../../src/database/events.repository.js';
import type { Database } from '../../../src/database/schema.js';
import type { EventFeed } from '../../../src/notifier/event-feed.js';
import type { JobpulseEvent, Topic } from '../../../src/notifier/events.js';
import { EventDelivery, type ResyncMessage, type Subscriber } from '../../../src/gateway/event-delivery.js';

/** A socket as delivery sees it: its rooms and, in order, what it was sent. */
class FakeSocket implements Subscriber {
  readonly rooms = new Set<Topic>();
  readonly received: (JobpulseEvent | ResyncMessage)[] = [];

  send(message: JobpulseEvent | ResyncMessage): void {
    this.received.push(message);
  }
  join(topics: readonly Topic[]): void {
    topics.forEach((topic) => this.rooms.add(topic));
  }
  leave(topics: readonly Topic[]): void {
    topics.forEach((topic) => this.rooms.delete(topic));
  }
  has(topic: Topic): boolean {
    return this.rooms.has(topic);
  }
  get ids(): number[] {
    return this.received.map((message) => ('id' in message ? message.id : -1));
  }
}

const silent = { log: jest.fn(), error: jest.fn(), warn: jest.fn() };

describe('EventDelivery', () => {
  let storage: TestStorage;
  let db: Kysely<Database>;
  /** The table under the feed: specs store through it and count the feed's reads on it. */
  let events: EventsRepository;
  let feed: EventFeed;
  let sockets: FakeSocket[];
  let broadcast: JobpulseEvent[];
  let delivery: EventDelivery;

  function store(topic: Topic = 'jobs'): Promise<number> {
    const type = topic === 'jobs' ? 'job.progress' : topic === 'reports' ? 'report.created' : 'cleanup.completed';
    return events.insert({ topic, type, at: new Date().toISOString(), data: { n: Math.random() } });
  }

  /** Stores an event and returns it as the notifier hands it over. */
  async function storeEvent(topic: Topic = 'jobs'): Promise<JobpulseEvent> {
    const [event] = await feed.list((await store(topic)) - 1, 1);
    return event;
  }

  async function storeMany(count: number, topic: Topic = 'jobs'): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) ids.push(await store(topic));
    return ids;
  }

  function socket(lastEventId?: number): FakeSocket {
    const created = new FakeSocket();
    sockets.push(created);
    delivery.connected(created, lastEventId);
    return created;
  }

  function newDelivery(options: { batchSize?: number; pollIntervalMs?: number } = {}) {
    return new EventDelivery(feed, {
      broadcast: (event) => {
        broadcast.push(event);
        sockets.filter((s) => s.has(event.topic)).forEach((s) => s.send(event));
      },
      logger: silent,
      pollIntervalMs: 60_000,
      ...options,
    });
  }

  /** Waits until the queue is idle, without stopping anything. */
  const settled = () => delivery.subscribe(new FakeSocket(), []);

  beforeEach(async () => {
    jest.clearAllMocks();
    storage = await createTestStorage(new TestClock(new Date('2025-05-01T10:00:00.000Z')));
    ({ db, events, feed } = storage);
    sockets = [];
    broadcast = [];
    delivery = newDelivery();
  });

  afterEach(async () => {
    await delivery.stop();
    await storage.close();
  });

  describe('live delivery', () => {
    it('starts from the newest stored event: older ones are not broadcast', async () => {
      const [, second] = await storeMany(2);
      await delivery.start();
      expect(delivery.deliveredUpTo).toBe(second);

      const third = await store();
      delivery.hint(third);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual([third]);
    });

    it('starts at 0 on an empty table', async () => {
      await delivery.start();
      expect(delivery.deliveredUpTo).toBe(0);
    });

    it('broadcasts each stored event once, in id order, whatever the order of the hints', async () => {
      await delivery.start();
      const ids = await storeMany(5);

      for (const id of [ids[4], ids[1], ids[3], ids[0], ids[2], ids[4], ids[0]]) delivery.hint(id);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual(ids);
      expect(delivery.deliveredUpTo).toBe(ids[4]);
    });

    it('sends the stored event as it is stored, to the sockets of its topic only', async () => {
      await delivery.start();
      const jobsSocket = socket();
      const systemSocket = socket();
      await delivery.subscribe(jobsSocket, ['jobs']);
      await delivery.subscribe(systemSocket, ['system']);
      const id = await store('jobs');

      delivery.hint(id);
      await settled();

      expect(jobsSocket.received).toEqual(await feed.list(id - 1, 1));
      expect(systemSocket.received).toEqual([]);
    });

    it('delivers events it was never told about, up to the one it was told about', async () => {
      await delivery.start();
      const ids = await storeMany(3);

      delivery.hint(ids[2]);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual(ids);
    });

    it('coalesces a burst of hints into few reads', async () => {
      await delivery.start();
      const ids = await storeMany(20);
      const reads = jest.spyOn(events, 'listAfter');

      ids.forEach((id) => delivery.hint(id));
      await settled();

      expect(broadcast).toHaveLength(20);
      expect(reads).toHaveBeenCalledTimes(1);
    });

    it('ignores hints of events already delivered, without reading', async () => {
      await delivery.start();
      const id = await store();
      delivery.hint(id);
      await settled();
      const reads = jest.spyOn(events, 'listAfter');

      delivery.hint(id);
      delivery.hint(id - 1);
      await settled();

      expect(reads).not.toHaveBeenCalled();
      expect(broadcast).toHaveLength(1);
    });

    it('reads in batches', async () => {
      delivery = newDelivery({ batchSize: 2 });
      await delivery.start();
      const ids = await storeMany(5);

      delivery.hint(ids[4]);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual(ids);
    });

    it('polls for events whose hint never came', async () => {
      delivery = newDelivery({ pollIntervalMs: 20 });
      await delivery.start();
      const ids = await storeMany(3);

      await eventually(
        () => Promise.resolve(broadcast.length),
        (count) => count === 3,
      );
      expect(broadcast.map((event) => event.id)).toEqual(ids);
    });

    it('survives a failed read, logs it once, and catches up on the next poll', async () => {
      delivery = newDelivery({ pollIntervalMs: 20 });
      await delivery.start();
      jest
        .spyOn(events, 'listAfter')
        .mockRejectedValueOnce(new Error('connection refused'))
        .mockRejectedValueOnce(new Error('connection refused'));
      const ids = await storeMany(2);

      delivery.hint(ids[1]);
      await eventually(
        () => Promise.resolve({ delivered: broadcast.length, resumed: silent.log.mock.calls.length }),
        ({ delivered, resumed }) => delivered === 2 && resumed === 1,
      );

      expect(broadcast.map((event) => event.id)).toEqual(ids);
      expect(silent.error).toHaveBeenCalledTimes(1);
      expect(silent.error).toHaveBeenCalledWith(
        expect.objectContaining({ msg: 'event delivery paused: cannot read events', error: 'connection refused' }),
      );
      expect(silent.log).toHaveBeenCalledWith(expect.objectContaining({ msg: 'event delivery resumed' }));
    });

    it('delivers what is pending when stopped', async () => {
      await delivery.start();
      const ids = await storeMany(2);

      await delivery.stop();

      expect(broadcast.map((event) => event.id)).toEqual(ids);
    });

    it("sends this process's own events that are next in line without reading them back", async () => {
      await delivery.start();
      const own = [await storeEvent(), await storeEvent()];
      const reads = jest.spyOn(events, 'listAfter');

      own.forEach((event) => delivery.published(event));
      await settled();

      expect(broadcast).toEqual(own);
      expect(reads).not.toHaveBeenCalled();
    });

    it('sends its own event that is next in line within the publish when nothing is queued', async () => {
      await delivery.start();
      const own = await storeEvent();

      delivery.published(own);

      expect(broadcast).toEqual([own]);
    });

    it('leaves its own event to the queue while a task is in it, so that it comes after that task', async () => {
      await delivery.start();
      const own = await storeEvent();
      const subscribing = delivery.subscribe(socket(), ['jobs']);

      delivery.published(own);
      expect(broadcast).toEqual([]);

      await subscribing;
      await settled();
      expect(broadcast).toEqual([own]);
    });

    it('reads when an event of another replica comes before its own', async () => {
      await delivery.start();
      const theirs = await store();
      const own = await storeEvent();
      const reads = jest.spyOn(events, 'listAfter');

      delivery.published(own);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual([theirs, own.id]);
      expect(reads).toHaveBeenCalledTimes(1);
    });

    it('sends its own events once and in order when the notifier hands them over out of order', async () => {
      await delivery.start();
      const [first, second] = [await storeEvent(), await storeEvent()];

      delivery.published(second);
      delivery.published(first);
      await settled();
      delivery.published(first);
      await settled();

      expect(broadcast.map((event) => event.id)).toEqual([first.id, second.id]);
    });

    it('still reads on a poll after sending its own events', async () => {
      delivery = newDelivery({ pollIntervalMs: 20 });
      await delivery.start();
      const own = await storeEvent();
      delivery.published(own);
      await settled();
      const unhinted = await store();

      await eventually(
        () => Promise.resolve(broadcast.map((event) => event.id)),
        (ids) => ids.length === 2,
      );
      expect(broadcast.map((event) => event.id)).toEqual([own.id, unhinted]);
    });
  });

  describe('subscribing', () => {
    it('without a resume point: joins, replays nothing, and gets the events after', async () => {
      await storeMany(2);
      await delivery.start();
      const client = socket();

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toBeUndefined();
      const id = await store();
      delivery.hint(id);
      await settled();

      expect(client.ids).toEqual([id]);
    });

    it('with a resume point: replays the missed events of the new topics in order, then live ones', async () => {
      const [seen, ...missed] = await storeMany(3);
      const otherTopic = await store('system');
      const missedReport = await store('reports');
      await delivery.start();
      const client = socket(seen);

      await expect(delivery.subscribe(client, ['jobs', 'reports'])).resolves.toEqual({ replayed: 3 });
      const live = await store();
      delivery.hint(live);
      await settled();

      expect(client.ids).toEqual([...missed, missedReport, live]);
      expect(client.ids).not.toContain(otherTopic);
    });

    it('replays events stored but not yet delivered, once, before live ones', async () => {
      await delivery.start();
      const seen = await store();
      const pending = await storeMany(2); // stored, not hinted yet
      const client = socket(seen);

      const subscribed = delivery.subscribe(client, ['jobs']);
      pending.forEach((id) => delivery.hint(id));
      const live = await store();
      delivery.hint(live);
      await subscribed;
      await settled();

      expect(client.ids).toEqual([...pending, live]);
    });

    it('replays nothing for a topic the socket already has', async () => {
      await delivery.start();
      const client = socket(0);
      await delivery.subscribe(client, ['jobs']);
      const id = await store();
      delivery.hint(id);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 0 });

      expect(client.ids).toEqual([id]);
    });

    it('replays a topic subscribed later from the same resume point', async () => {
      const seen = await store();
      const report = await store('reports');
      await delivery.start();
      const client = socket(seen);
      await delivery.subscribe(client, ['jobs']);

      await expect(delivery.subscribe(client, ['reports'])).resolves.toEqual({ replayed: 1 });

      expect(client.ids).toEqual([report]);
    });

    it('replays, on subscribing again, only the events sent while unsubscribed', async () => {
      await delivery.start();
      const client = socket(0);
      await delivery.subscribe(client, ['jobs']);
      const first = await store();
      delivery.hint(first);
      await delivery.unsubscribe(client, ['jobs']);
      const whileAway = await store();
      delivery.hint(whileAway);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 1 });

      expect(client.ids).toEqual([first, whileAway]);
    });

    it('replays across batches', async () => {
      delivery = newDelivery({ batchSize: 2 });
      const ids = await storeMany(5);
      await delivery.start();
      const client = socket(0);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 5 });

      expect(client.ids).toEqual(ids);
    });

    it('sends resync instead when the resume point is newer than any event', async () => {
      const latest = await store();
      await delivery.start();
      const client = socket(latest + 10);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 0, resync: true });

      expect(client.received).toEqual([{ type: 'resync', latestEventId: latest }]);
      expect(client.has('jobs')).toBe(true);
    });

    it('sends resync instead when events after the resume point were pruned', async () => {
      const [seen] = await storeMany(3);
      await db
        .deleteFrom('events')
        .where('id', '<=', seen + 1)
        .execute();
      const latest = await events.latestId();
      await delivery.start();
      const client = socket(seen);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 0, resync: true });
      const live = await store();
      delivery.hint(live);
      await settled();

      expect(client.received).toEqual([
        { type: 'resync', latestEventId: latest },
        expect.objectContaining({ id: live }),
      ]);
    });

    it('sends resync when every event was pruned', async () => {
      const [seen] = await storeMany(3);
      await db.deleteFrom('events').execute();
      await delivery.start(); // an empty table: the horizon is 0
      const client = socket(seen);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 0, resync: true });
    });

    it('replays when only the events up to the resume point were pruned', async () => {
      const [, seen, missed] = await storeMany(3);
      await db.deleteFrom('events').where('id', '<=', seen).execute();
      await delivery.start();
      const client = socket(seen);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 1 });

      expect(client.ids).toEqual([missed]);
    });

    it('does not resync a client that is up to date, even with nothing stored after it', async () => {
      const latest = await store();
      await db.deleteFrom('events').where('id', '<', latest).execute();
      await delivery.start();
      const client = socket(latest);

      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 0 });
      expect(client.received).toEqual([]);
    });
  });

  describe('the resume message', () => {
    it('replays the subscribed topics from the given point, up to where live delivery began', async () => {
      const ids = await storeMany(3);
      await storeMany(1, 'system');
      await delivery.start();
      const client = socket();
      await delivery.subscribe(client, ['jobs']);
      const live = await store();
      delivery.hint(live);

      await expect(delivery.resume(client, ids[0])).resolves.toEqual({ replayed: 2 });

      expect(client.ids).toEqual([live, ids[1], ids[2]]);
    });

    it('before subscribing: sets the point the next subscription replays from, in order', async () => {
      const ids = await storeMany(3);
      await delivery.start();
      const client = socket();

      await expect(delivery.resume(client, ids[0])).resolves.toEqual({ replayed: 0 });
      await expect(delivery.subscribe(client, ['jobs'])).resolves.toEqual({ replayed: 2 });

      expect(client.ids).toEqual([ids[1], ids[2]]);
    });

    it('replays nothing twice when resumed again from the same point', async () => {
      const ids = await storeMany(2);
      await delivery.start();
      const client = socket(ids[0]);
      await delivery.subscribe(client, ['jobs']);

      await expect(delivery.resume(client, ids[0])).resolves.toEqual({ replayed: 0 });

      expect(client.ids).toEqual([ids[1]]);
    });

    it('sends resync for a point newer than any event, and the socket stays subscribed', async () => {
      const latest = await store();
      await delivery.start();
      const client = socket();
      await delivery.subscribe(client, ['jobs']);

      await expect(delivery.resume(client, latest + 1)).resolves.toEqual({ replayed: 0, resync: true });
      const live = await store();
      delivery.hint(live);
      await settled();

      expect(client.received).toEqual([
        { type: 'resync', latestEventId: latest },
        expect.objectContaining({ id: live }),
      ]);
    });

    it('sends resync for a point whose next events were pruned', async () => {
      const [seen] = await storeMany(3);
      await db
        .deleteFrom('events')
        .where('id', '<=', seen + 1)
        .execute();
      await delivery.start();
      const client = socket();

      await expect(delivery.resume(client, seen)).resolves.toEqual({ replayed: 0, resync: true });
    });
  });
});
