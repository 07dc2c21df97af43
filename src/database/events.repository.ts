import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE, isPostgres } from './database.js';
import type { Database, EventRow } from './schema.js';

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
    if (!this.postgres) return this.insertRow(this.db, event);
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${EVENT_INSERT_LOCK})`.execute(trx);
      return this.insertRow(trx, event);
    });
  }

  private async insertRow(db: Kysely<Database>, event: Omit<StoredEvent, 'id'>): Promise<number> {
    const { id } = await db
      .insertInto('events')
      .values({ topic: event.topic, type: event.type, at: event.at, data: JSON.stringify(event.data) })
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
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where('topic', 'in', topics)
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
  async countByTopicBetween(from: string, to: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('events')
      .select(['topic', (eb) => eb.fn.countAll<number>().as('count')])
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy('topic')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.topic, Number(row.count)]));
  }

  async deleteBefore(cutoff: string): Promise<number> {
    const result = await this.db.deleteFrom('events').where('at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toEvent(row: EventRow): StoredEvent {
  return { id: Number(row.id), topic: row.topic, type: row.type, at: row.at, data: JSON.parse(row.data) };
}
