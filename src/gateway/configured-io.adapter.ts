import { Injectable } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server as HttpServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Server, type ServerOptions } from 'socket.io';
import { settlesWithin } from '../common/settles-within.js';
import { Env } from '../config/env.js';
import { corsOptions } from './cors-options.js';
import { EventsGateway } from './events.gateway.js';

/** How long shutdown waits for queued events to be written to clients. */
const FLUSH_TIMEOUT_MS = 2000;

/**
 * socket.io with the service's CORS policy, and a close that first lets
 * queued events go out. A provider, so `app.ts` only installs it.
 */
@Injectable()
export class ConfiguredIoAdapter extends IoAdapter {
  private readonly cors: ServerOptions['cors'];

  constructor(
    env: Env,
    private readonly http: HttpAdapterHost<AbstractHttpAdapter<HttpServer>>,
    private readonly gateway: EventsGateway,
  ) {
    super();
    this.cors = corsOptions(env);
  }

  /** Port 0 means the application's own HTTP server, which exists only once the application does: read it here. */
  override createIOServer(port: number, options?: ServerOptions): Server {
    const settings = { ...options, cors: this.cors };
    return port === 0 ? new Server(this.http.httpAdapter.getHttpServer(), settings) : new Server(port, settings);
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
