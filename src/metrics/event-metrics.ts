import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryObserver } from '../gateway/event-delivery.js';
import { TOPICS, type JobpulseEvent } from '../notifier/events.js';

/**
 * The live feed as this process sees it: events it published, events it sent
 * to its sockets (its own and other replicas'), replays, resyncs, and the
 * sockets connected to it.
 */
export class EventMetrics implements DeliveryObserver {
  private readonly published: Counter<'topic'>;
  private readonly deliveredEvents: Counter<'topic'>;
  private readonly replayedEvents: Counter<'topic'>;
  private readonly resyncs: Counter;

  /** `connectedSockets` is read at each scrape. */
  constructor(registry: Registry, connectedSockets: () => number) {
    const registers = [registry];
    this.published = new Counter({
      name: 'jobpulse_events_published_total',
      help: 'Events this process stored and published, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.deliveredEvents = new Counter({
      name: 'jobpulse_events_delivered_total',
      help: "Live events sent to this process's sockets subscribed to their topic (once per event), by topic.",
      labelNames: ['topic'],
      registers,
    });
    this.replayedEvents = new Counter({
      name: 'jobpulse_events_replayed_total',
      help: 'Stored events replayed to a resuming socket that had missed them (once per socket), by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.resyncs = new Counter({
      name: 'jobpulse_resyncs_total',
      help: 'Resync messages sent to sockets whose resume point could not be replayed.',
      registers,
    });
    // Every topic's series exists from the start, at 0, so that rates over them have a beginning.
    for (const counter of [this.published, this.deliveredEvents, this.replayedEvents]) {
      for (const topic of TOPICS) counter.inc({ topic }, 0);
    }
    new Gauge({
      name: 'jobpulse_connected_sockets',
      help: 'socket.io clients connected to this process.',
      registers,
      collect() {
        this.set(connectedSockets());
      },
    });
  }

  /** An event this process published. */
  publishedEvent(event: JobpulseEvent): void {
    this.published.inc({ topic: event.topic });
  }

  delivered(event: JobpulseEvent): void {
    this.deliveredEvents.inc({ topic: event.topic });
  }

  replayed(event: JobpulseEvent): void {
    this.replayedEvents.inc({ topic: event.topic });
  }

  resynced(): void {
    this.resyncs.inc();
  }
}
