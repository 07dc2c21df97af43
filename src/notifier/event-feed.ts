import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { EventsRepository, type StoredEvent } from '../database/events.repository.js';
import {
  EVENT_TOPICS,
  eventOf,
  isEventType,
  type EventMap,
  type EventType,
  type JobpulseEvent,
  type Topic,
} from './events.js';
import { NotifierService } from './notifier.service.js';
import { REPLICA_HINTS, type ReplicaHints } from './replica-hints.js';

/**
 * The stored events in the order readers must see them, and the news that
 * there are more: events this process published, and ids up to which other
 * replicas stored theirs. Events are committed in id order (see
 * EventsRepository.insert), so a reader that follows the last id it saw never
 * skips one. Rows of a type this version does not know (written by a newer
 * replica) are passed over with a warning.
 */
@Injectable()
export class EventFeed {
  private readonly logger = new Logger(EventFeed.name);
  /** The newest unknown row already warned about, so a row read again is not reported again. */
  private warnedUpTo = 0;

  /** Events this process published, as the notifier stored them; completes at shutdown. */
  readonly published$: Observable<JobpulseEvent>;
  /** Ids up to which other replicas stored events (none on a single process). */
  readonly storedByReplicas$: Observable<number>;

  constructor(
    private readonly events: EventsRepository,
    notifier: NotifierService,
    @Inject(REPLICA_HINTS) replicas: ReplicaHints,
  ) {
    this.published$ = notifier.events$;
    this.storedByReplicas$ = replicas.announced$;
  }

  /** Up to `limit` events after the id `after`, oldest first: a page of `GET /api/events`. */
  async list(after: number, limit: number): Promise<JobpulseEvent[]> {
    return this.known(await this.events.listAfter(after, limit));
  }

  /** Every event after the id `after`, oldest first, read `batchSize` at a time. */
  readAfter(after: number, batchSize: number): AsyncGenerator<JobpulseEvent> {
    return this.readInBatches(after, (from) => this.events.listAfter(from, batchSize), batchSize);
  }

  /** Every event of `topics` with an id in (`after`, `upTo`], oldest first, read `batchSize` at a time. */
  readBetween(after: number, upTo: number, topics: readonly Topic[], batchSize: number): AsyncGenerator<JobpulseEvent> {
    return this.readInBatches(after, (from) => this.events.listBetween(from, upTo, topics, batchSize), batchSize);
  }

  /** The id of the oldest stored event (older ones were pruned), or null when none is stored. */
  oldestId(): Promise<number | null> {
    return this.events.oldestId();
  }

  /** The id of the newest stored event, or 0 when none is stored. */
  latestId(): Promise<number> {
    return this.events.latestId();
  }

  private async *readInBatches(
    after: number,
    read: (after: number) => Promise<StoredEvent[]>,
    batchSize: number,
  ): AsyncGenerator<JobpulseEvent> {
    for (;;) {
      const batch = await read(after);
      yield* this.known(batch);
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].id;
    }
  }

  private known(rows: StoredEvent[]): JobpulseEvent[] {
    const events: JobpulseEvent[] = [];
    for (const row of rows) {
      const event = toJobpulseEvent(row);
      if (event) events.push(event);
      else if (row.id > this.warnedUpTo) {
        this.warnedUpTo = row.id;
        this.logger.warn({ msg: 'stored event of an unknown type passed over', id: row.id, type: row.type });
      }
    }
    return events;
  }
}

/** The event a stored row records, or undefined when its type, or its topic for that type, is not one of ours. */
function toJobpulseEvent({ id, topic, type, at, data }: StoredEvent): JobpulseEvent | undefined {
  if (!isEventType(type) || EVENT_TOPICS[type] !== topic || !isStoredData(type, data)) return undefined;
  return eventOf(id, type, at, data);
}

/**
 * Only `publish` writes events, from data typed by the event map, so the
 * stored JSON is trusted to have that shape once it is an object.
 */
function isStoredData<K extends EventType>(_type: K, data: unknown): data is EventMap[K]['data'] {
  return typeof data === 'object' && data !== null;
}
