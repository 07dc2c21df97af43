import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE, isPostgres } from './database.js';
import type { Database, EventRow } from './schema.js';
import { SLICE_ENTRIES, sumInSlices, yieldToEventLoop } from './slices.js';

/**
 * The advisory lock every event insert takes on PostgreSQL (an arbitrary
 * constant of ours; Kysely's migrator uses a different one).
 */
const EVENT_INSERT_LOCK = 6_104_283_117;

export interface StoredEvent {
  id: number;
  topic: string;
  type: string;
  at: string;
  data: unknown;
}

@Injectable()
export class EventsRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {
    this.postgres = isPostgres(db);
  }

  /**
   * Stores the event and returns its id, which increases with every insert.
   * Ids are also committed in increasing order, so once event n is visible
   * every event before it is too, and a reader that remembers the last id it
   * saw never skips one: on PostgreSQL, replicas take turns through a
   * transaction-level advisory lock (without it, a transaction holding id 7
   * could commit after one holding id 8); SQLite has a single writer.
   */
  async insert(event: Omit<StoredEvent, 'id'>): Promise<number> {
    const values = { topic: event.topic, type: event.type, at: event.at, data: JSON.stringify(event.data) };
    if (!this.postgres) {
      const { id } = await this.db.insertInto('events').values(values).returning('id').executeTakeFirstOrThrow();
      return Number(id);
    }
    // One statement, so one round trip: the row to insert comes out of the lock, so the lock is
    // taken before the id is drawn, and the statement's own transaction holds it until commit.
    const { id } = await this.db
      .insertInto('events')
      .columns(['topic', 'type', 'at', 'data'])
      .expression(
        this.db
          .selectFrom(sql<{ locked: unknown }>`(select pg_advisory_xact_lock(${EVENT_INSERT_LOCK}))`.as('locked'))
          .select([
            sql.val(values.topic).as('topic'),
            sql.val(values.type).as('type'),
            sql.val(values.at).as('at'),
            sql.val(values.data).as('data'),
          ]),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(id);
  }

  /** Events with an id greater than `after`, oldest first. */
  async listAfter(after: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  /** Events of `topics` with an id in (`after`, `upTo`], oldest first. */
  async listBetween(after: number, upTo: number, topics: readonly string[], limit: number): Promise<StoredEvent[]> {
    if (topics.length === 0) return [];
    // SQLite, without statistics, would take events_topic_at and sort every event of the range; along the
    // primary key they come in order, and the read stops at `limit` (a unary + keeps topic off the index).
    const topic = this.postgres ? sql.ref('topic') : sql`+topic`;
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where(topic, 'in', topics)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  /** The id of the oldest stored event (the others were pruned), or null when none is stored. */
  async oldestId(): Promise<number | null> {
    const { id } = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.min('id').as('id'))
      .executeTakeFirstOrThrow();
    return id === null ? null : Number(id);
  }

  /** The id of the newest stored event, or 0 when none is stored. */
  async latestId(): Promise<number> {
    const { id } = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirstOrThrow();
    return id === null ? 0 : Number(id);
  }

  /** Number of events per topic published in [from, to). */
  /**
   * Events published in [from, to), by topic. On SQLite, each topic (found by
   * a skip along the index) is counted in short statements (see sumInSlices),
   * because better-sqlite3 holds the event loop while a statement runs.
   */
  async countByTopicBetween(from: string, to: string): Promise<Record<string, number>> {
    if (!this.postgres) return this.countByTopicInSlices(from, to);
    const rows = await this.db
      .selectFrom('events')
      .select(['topic', (eb) => eb.fn.countAll<number>().as('count')])
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy('topic')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.topic, Number(row.count)]));
  }

  private async countByTopicInSlices(from: string, to: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let topic = await this.topicAfter(''); topic !== undefined; topic = await this.topicAfter(topic)) {
      const ofTopic = this.db.selectFrom('events').where('topic', '=', topic);
      const { count } = await sumInSlices(from, to, {
        boundaryAfter: async (start, end) => {
          const row = await ofTopic
            .select('at')
            .where('at', '>=', start)
            .where('at', '<', end)
            .orderBy('at')
            .limit(1)
            .offset(SLICE_ENTRIES)
            .executeTakeFirst();
          return row?.at;
        },
        totalsIn: async (start, end) => {
          const row = await ofTopic
            .select((eb) => eb.fn.countAll<number>().as('count'))
            .where('at', '>=', start)
            .where('at', '<', end)
            .executeTakeFirstOrThrow();
          return { count: Number(row.count) };
        },
      });
      if (count > 0) counts[topic] = count;
    }
    return counts;
  }

  private async topicAfter(name: string): Promise<string | undefined> {
    await yieldToEventLoop();
    const row = await this.db
      .selectFrom('events')
      .select('topic')
      .where('topic', '>', name)
      .orderBy('topic')
      .limit(1)
      .executeTakeFirst();
    return row?.topic;
  }
}

function toEvent(row: EventRow): StoredEvent {
  return { id: Number(row.id), topic: row.topic, type: row.type, at: row.at, data: JSON.parse(row.data) };
}
