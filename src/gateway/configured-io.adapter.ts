import { Injectable, type WsMessageHandler } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server as HttpServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { settlesWithin } from '../common/settles-within.js';
import { Env } from '../config/env.js';
import { corsOptions } from './cors-options.js';
import { EventsGateway } from './events.gateway.js';
import { MessageDispatch } from './message-dispatch.js';
import { gateMessages } from './message-gate.js';
import { SocketAdmission } from './socket-admission.js';

/** How long shutdown waits for queued events to be written to clients. */
const FLUSH_TIMEOUT_MS = 2000;

/**
 * The largest packet a client may send: the handshake, which carries the
 * token (an identity provider's JWT with many roles runs to several kB);
 * every message is far smaller. A larger packet closes its connection.
 */
export const MAX_PACKET_BYTES = 16 * 1024;

/**
 * socket.io with the service's CORS policy, its admission of handshakes and
 * limits on messages, and a close that first lets queued events go out. A
 * provider, so `app.ts` only installs it.
 */
@Injectable()
export class ConfiguredIoAdapter extends IoAdapter {
  private readonly cors: ServerOptions['cors'];
  private readonly dispatch = new MessageDispatch((payload) => this.mapPayload(payload), this.logger);

  constructor(
    private readonly env: Env,
    private readonly http: HttpAdapterHost<AbstractHttpAdapter<HttpServer>>,
    private readonly gateway: EventsGateway,
    private readonly admission: SocketAdmission,
  ) {
    super();
    this.cors = corsOptions(env);
  }

  /** Port 0 means the application's own HTTP server, which exists only once the application does: read it here. */
  override createIOServer(port: number, options?: ServerOptions): Server {
    const settings: Partial<ServerOptions> = {
      ...options,
      cors: this.cors,
      allowRequest: this.admission.allowRequest,
      maxHttpBufferSize: MAX_PACKET_BYTES,
    };
    const server =
      port === 0 ? new Server(this.http.httpAdapter.getHttpServer(), settings) : new Server(port, settings);
    server.use((socket, next) => void this.admission.admit(socket, next));
    server.use((socket, next) => {
      gateMessages(socket, this.env.SOCKET_MESSAGES_PER_SECOND);
      next();
    });
    return server;
  }

  /** Plain listeners instead of Nest's RxJS pipeline per socket and message, which made up most of an idle socket's memory. */
  override bindMessageHandlers(socket: Socket, handlers: WsMessageHandler[]): void {
    this.dispatch.bind(socket, handlers);
  }

  /**
   * socket.io's close discards packets still queued per connection, and the
   * last events of runs that finished while the service drained are exactly
   * those; events stored but not sent yet go out first, then a disconnect
   * writes what is queued, then the server closes.
   */
  override async close(server: Server): Promise<void> {
    // A database outage must not hold up shutdown.
    await settlesWithin(this.gateway.flush(), FLUSH_TIMEOUT_MS);
    server.local.disconnectSockets(true);
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    while (server.engine.clientsCount > 0 && Date.now() < deadline) await delay(10);
    await super.close(server);
  }
}
