import type { Kysely } from 'kysely';
import { createTestDatabase } from '../../support/database.js';
import { EventsRepository } from '../../../src/database/events.repository.js';
import type { Database } from '../../../src/database/schema.js';

describe('EventsRepository', () => {
  let db: Kysely<Database>;
  let events: EventsRepository;

  const store = (topic: string, n = 0) =>
    events.insert({ topic, type: `${topic}.test`, at: '2025-05-01T10:00:00.000Z', data: { n } });

  beforeEach(async () => {
    db = await createTestDatabase();
    events = new EventsRepository(db);
  });

  afterEach(async () => {
    await db.destroy();
  });

  it('knows no oldest event and a latest id of 0 on an empty table', async () => {
    await expect(events.oldestId()).resolves.toBeNull();
    await expect(events.latestId()).resolves.toBe(0);
  });

  it('tells the oldest and newest stored ids, after pruning too', async () => {
    const first = await store('jobs');
    const second = await store('jobs');
    const third = await store('system');
    await expect(events.oldestId()).resolves.toBe(first);
    await expect(events.latestId()).resolves.toBe(third);

    await db.deleteFrom('events').where('id', '=', first).execute();

    await expect(events.oldestId()).resolves.toBe(second);
  });

  it('lists the events of some topics in an id range, oldest first, up to a limit', async () => {
    const ids = [await store('jobs', 1), await store('system', 2), await store('reports', 3), await store('jobs', 4)];
    await store('jobs', 5);

    const listed = await events.listBetween(ids[0], ids[3], ['jobs', 'reports'], 10);

    expect(listed).toEqual([
      { id: ids[2], topic: 'reports', type: 'reports.test', at: '2025-05-01T10:00:00.000Z', data: { n: 3 } },
      { id: ids[3], topic: 'jobs', type: 'jobs.test', at: '2025-05-01T10:00:00.000Z', data: { n: 4 } },
    ]);
    expect((await events.listBetween(0, ids[3], ['jobs'], 1)).map((event) => event.id)).toEqual([ids[0]]);
    await expect(events.listBetween(0, ids[3], [], 10)).resolves.toEqual([]);
  });

  it('commits ids in increasing order under concurrent inserts: a reader that follows the last id misses none', async () => {
    const seen: number[] = [];
    let inserting = true;
    const reader = (async () => {
      while (inserting) {
        const batch = await events.listAfter(seen.at(-1) ?? 0, 500);
        seen.push(...batch.map((event) => event.id));
      }
      seen.push(...(await events.listAfter(seen.at(-1) ?? 0, 500)).map((event) => event.id));
    })();

    const inserted = await Promise.all(Array.from({ length: 300 }, (_, i) => store('jobs', i)));
    inserting = false;
    await reader;

    expect(seen).toEqual([...inserted].sort((a, b) => a - b));
  });
});
