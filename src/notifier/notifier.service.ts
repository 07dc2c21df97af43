import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { CLOCK, type Clock } from '../common/clock.js';
import { EventsRepository } from '../database/events.repository.js';
import { EVENT_TOPICS, eventOf, type EventMap, type EventType, type JobpulseEvent } from './events.js';
import { REPLICA_HINTS, type ReplicaHints } from './replica-hints.js';

/**
 * The DataNotifier of the original design, typed: jobs publish, everyone else
 * subscribes to `events$`. Each event is stored first, so it has its id and
 * can be replayed by a client that was away; the other replicas are told it is stored.
 */
@Injectable()
export class NotifierService implements OnApplicationShutdown {
  private readonly logger = new Logger(NotifierService.name);
  private readonly subject = new Subject<JobpulseEvent>();
  readonly events$: Observable<JobpulseEvent> = this.subject.asObservable();

  constructor(
    private readonly events: EventsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REPLICA_HINTS) private readonly replicas: ReplicaHints,
  ) {}

  async publish<K extends EventType>(type: K, data: EventMap[K]['data']): Promise<JobpulseEvent> {
    const topic = EVENT_TOPICS[type];
    const at = this.clock.now().toISOString();
    const id = await this.events.insert({ topic, type, at, data });
    // The union of every event, which `events$` carries; K's type and data match by this method's signature.
    const event = eventOf<EventType>(id, type, at, data);
    this.logger.debug({ msg: 'event published', id, topic, type });
    this.replicas.announce(id);
    this.subject.next(event);
    return event;
  }

  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
