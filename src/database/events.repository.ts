import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { DATABASE } from './database.js';
import type { Database, EventRow } from './schema.js';

export interface StoredEvent {
  id: number;
  topic: string;
  type: string;
  at: string;
  data: unknown;
}

@Injectable()
export class EventsRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /** Stores the event and returns its id, which increases with every insert. */
  async insert(event: Omit<StoredEvent, 'id'>): Promise<number> {
    const { id } = await this.db
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
