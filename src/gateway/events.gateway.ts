import { Logger, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ClientPresence } from '../notifier/client-presence.service.js';
import { TOPICS, type Topic } from '../notifier/events.js';
import { NotifierService } from '../notifier/notifier.service.js';
import { SubscriptionDto } from './subscription.dto.js';
import { WsAckExceptionFilter } from './ws-ack-exception.filter.js';

export interface SubscriptionAck {
  ok: true;
  /** Every topic the socket is subscribed to after the message. */
  topics: Topic[];
}

const roomOf = (topic: Topic) => `topic:${topic}`;

/** Relays the notifier's events to the sockets subscribed to their topic, as socket.io event `event`. */
@WebSocketGateway()
@UseFilters(WsAckExceptionFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class EventsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(EventsGateway.name);

  constructor(
    private readonly notifier: NotifierService,
    private readonly presence: ClientPresence,
  ) {}

  /**
   * The relay lasts until the notifier completes at shutdown, so events of runs
   * that finish while the service drains still reach their clients.
   */
  afterInit(server: Server): void {
    this.notifier.events$.subscribe((event) => server.to(roomOf(event.topic)).emit('event', event));
  }

  handleConnection(client: Socket): void {
    this.presence.connected();
    this.logger.debug({ msg: 'client connected', socketId: client.id, connected: this.presence.connectedNow });
  }

  handleDisconnect(client: Socket): void {
    this.presence.disconnected();
    this.logger.debug({ msg: 'client disconnected', socketId: client.id, connected: this.presence.connectedNow });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() client: Socket, @MessageBody() body: SubscriptionDto): Promise<SubscriptionAck> {
    await client.join(body.topics.map(roomOf));
    return { ok: true, topics: topicsOf(client) };
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(@ConnectedSocket() client: Socket, @MessageBody() body: SubscriptionDto): Promise<SubscriptionAck> {
    for (const topic of body.topics) await client.leave(roomOf(topic));
    return { ok: true, topics: topicsOf(client) };
  }
}

function topicsOf(client: Socket): Topic[] {
  return TOPICS.filter((topic) => client.rooms.has(roomOf(topic)));
}
