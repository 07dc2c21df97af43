import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { setTimeout as delay } from 'node:timers/promises';
import type { Server, ServerOptions } from 'socket.io';
import { EventsGateway } from './events.gateway.js';

/** How long shutdown waits for queued events to be written to clients. */
const FLUSH_TIMEOUT_MS = 2000;

/**
 * socket.io with the service's CORS policy, which gateway decorators cannot
 * read from the environment, and a close that first lets queued events go out.
 */
export class ConfiguredIoAdapter extends IoAdapter {
  constructor(
    private readonly app: INestApplicationContext,
    private readonly cors: ServerOptions['cors'],
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    return super.createIOServer(port, { ...options, cors: this.cors } as ServerOptions);
  }

  /**
   * socket.io's close discards packets still queued per connection, and the
   * last events of runs that finished while the service drained are exactly
   * those; events stored but not sent yet go out first, then a disconnect
   * writes what is queued, then the server closes.
   */
  override async close(server: Server): Promise<void> {
    await withinFlushTimeout(this.app.get(EventsGateway).flush());
    server.local.disconnectSockets(true);
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    while (server.engine.clientsCount > 0 && Date.now() < deadline) await delay(10);
    return super.close(server);
  }
}

/** Waits for `work`, but no longer than the flush timeout: a database outage must not hold up shutdown. */
async function withinFlushTimeout(work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS)));
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
