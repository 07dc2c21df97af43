import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { setTimeout as delay } from 'node:timers/promises';
import type { Server, ServerOptions } from 'socket.io';

/** How long shutdown waits for queued events to be written to clients. */
const FLUSH_TIMEOUT_MS = 2000;

/**
 * socket.io with the service's CORS policy, which gateway decorators cannot
 * read from the environment, and a close that first lets queued events go out.
 */
export class ConfiguredIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
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
   * those; a disconnect first writes what is queued, then closes.
   */
  override async close(server: Server): Promise<void> {
    server.local.disconnectSockets(true);
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    while (server.engine.clientsCount > 0 && Date.now() < deadline) await delay(10);
    return super.close(server);
  }
}
