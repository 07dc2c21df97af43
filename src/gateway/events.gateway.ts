import { Logger, OnApplicationBootstrap, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { Server, Socket } from 'socket.io';
import { MetricsService } from '../metrics/metrics.service.js';
import { EventFeed } from '../notifier/event-feed.js';
import { TOPICS, type JobpulseEvent, type Topic } from '../notifier/events.js';
import { ClientPresence } from './client-presence.js';
import { EventDelivery, type ReplayOutcome, type ResyncMessage, type Subscriber } from './event-delivery.js';
import { ResumeDto } from './resume.dto.js';
import { SubscriptionDto } from './subscription.dto.js';
import { type ErrorAck, WsAckExceptionFilter } from './ws-ack-exception.filter.js';

/** `subscribe`, `unsubscribe` and `resume` acknowledgements; `replayed` and `resync` once the socket has a resume point. */
export type SubscriptionAck = {
  ok: true;
  /** Every topic the socket is subscribed to after the message. */
  topics: Topic[];
} & Partial<ReplayOutcome>;

const roomOf = (topic: Topic) => `topic:${topic}`;

/**
 * Sends stored events to the sockets subscribed to their topic, as socket.io
 * event `event`, through one EventDelivery per process; replays missed events
 * to a socket that gives the id of the last one it saw.
 */
@WebSocketGateway()
@UseFilters(WsAckExceptionFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class EventsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationBootstrap {
  private readonly logger = new Logger(EventsGateway.name);
  private delivery: EventDelivery;
  private readonly subscribers = new WeakMap<Socket, Subscriber>();

  constructor(
    private readonly feed: EventFeed,
    private readonly presence: ClientPresence,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Local events are delivered until the notifier completes at shutdown, so
   * events of runs that finish while the service drains still reach their
   * clients; what other replicas stored is read from the feed and delivered
   * to this process's own sockets.
   */
  afterInit(server: Server): void {
    this.delivery = new EventDelivery(this.feed, {
      broadcast: (event) => server.local.to(roomOf(event.topic)).emit('event', event),
      logger: this.logger,
      observer: this.metrics.events,
    });
    this.feed.published$.subscribe((event) => this.delivery.published(event));
    this.feed.storedByReplicas$.subscribe((id) => this.delivery.hint(id));
  }

  /** After migrations: the horizon is the newest stored event. */
  async onApplicationBootstrap(): Promise<void> {
    await this.delivery
      .start()
      .catch((error: Error) =>
        this.logger.error({ msg: 'event delivery could not read the newest event', error: error.message }),
      );
  }

  /** Sends what is stored but not sent yet; the adapter calls it before closing the server. */
  flush(): Promise<void> {
    return this.delivery.stop();
  }

  /**
   * A bad `auth.lastEventId` leaves the socket connected without a resume
   * point, and is reported as an `exception` event, as a message without an
   * acknowledgement would be; the client can still send `resume`.
   */
  handleConnection(client: Socket): void {
    this.presence.connected();
    this.logger.debug({ msg: 'client connected', socketId: client.id, connected: this.presence.connectedNow });
    const lastEventId: unknown = client.handshake.auth?.lastEventId;
    let resumeFrom: number | undefined;
    if (lastEventId !== undefined && lastEventId !== null) {
      const dto = plainToInstance(ResumeDto, { lastEventId });
      const [error] = validateSync(dto);
      if (error) {
        const reply: ErrorAck = { ok: false, error: Object.values(error.constraints ?? {}).join('; ') };
        client.emit('exception', reply);
      } else resumeFrom = dto.lastEventId;
    }
    this.delivery.connected(this.subscriberOf(client), resumeFrom);
  }

  handleDisconnect(client: Socket): void {
    this.presence.disconnected();
    this.logger.debug({ msg: 'client disconnected', socketId: client.id, connected: this.presence.connectedNow });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() client: Socket, @MessageBody() body: SubscriptionDto): Promise<SubscriptionAck> {
    const outcome = await this.withStoredEvents(() => this.delivery.subscribe(this.subscriberOf(client), body.topics));
    return { ok: true, topics: topicsOf(client), ...outcome };
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(@ConnectedSocket() client: Socket, @MessageBody() body: SubscriptionDto): Promise<SubscriptionAck> {
    await this.withStoredEvents(() => this.delivery.unsubscribe(this.subscriberOf(client), body.topics));
    return { ok: true, topics: topicsOf(client) };
  }

  @SubscribeMessage('resume')
  async resume(@ConnectedSocket() client: Socket, @MessageBody() body: ResumeDto): Promise<SubscriptionAck> {
    const outcome = await this.withStoredEvents(() =>
      this.delivery.resume(this.subscriberOf(client), body.lastEventId),
    );
    return { ok: true, topics: topicsOf(client), ...outcome };
  }

  /** A database outage answers the message with an error; the client can send it again. */
  private async withStoredEvents<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.logger.warn({ msg: 'message not served: stored events unreadable', error: (error as Error)?.message });
      throw new WsException('stored events cannot be read right now; try again');
    }
  }

  private subscriberOf(client: Socket): Subscriber {
    let subscriber = this.subscribers.get(client);
    if (!subscriber) this.subscribers.set(client, (subscriber = new SocketSubscriber(client)));
    return subscriber;
  }
}

/** A socket as delivery sees it: methods on the prototype, so that each idle socket holds one small object, not four closures. */
class SocketSubscriber implements Subscriber {
  constructor(private readonly socket: Socket) {}

  send(message: JobpulseEvent | ResyncMessage): void {
    this.socket.emit('event', message);
  }

  join(topics: readonly Topic[]): void {
    void this.socket.join(topics.map(roomOf));
  }

  leave(topics: readonly Topic[]): void {
    for (const topic of topics) void this.socket.leave(roomOf(topic));
  }

  has(topic: Topic): boolean {
    return this.socket.rooms.has(roomOf(topic));
  }
}

function topicsOf(client: Socket): Topic[] {
  return TOPICS.filter((topic) => client.rooms.has(roomOf(topic)));
}
