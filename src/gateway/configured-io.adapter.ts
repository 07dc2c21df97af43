import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/postgres-adapter';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import type { Server, ServerOptions } from 'socket.io';
import { settlesWithin } from '../common/settles-within.js';
import { redactCredentials } from '../config/env.js';
import { createPool, isPostgresUrl } from '../database/database.js';
import { EventsGateway } from './events.gateway.js';

/** How long shutdown waits for queued events to be written to clients. */
const FLUSH_TIMEOUT_MS = 2000;

/** The adapter's own connections: one held for LISTEN, one for NOTIFY and its clean-up. */
const ADAPTER_POOL_SIZE = 2;

export interface ConfiguredIoOptions {
  cors: ServerOptions['cors'];
  /** A postgres:// URL connects the replicas sharing it through socket.io's PostgreSQL adapter. */
  databaseUrl: string;
}

/**
 * socket.io with the service's CORS policy, which gateway decorators cannot
 * read from the environment; on PostgreSQL, the adapter that carries messages
 * between replicas; and a close that first lets queued events go out.
 */
export class ConfiguredIoAdapter extends IoAdapter {
  private readonly databaseLogger = new Logger('SocketIoAdapter');
  private pool: Pool | undefined;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly options: ConfiguredIoOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    const server = super.createIOServer(port, { ...options, cors: this.options.cors } as ServerOptions);
    if (isPostgresUrl(this.options.databaseUrl)) {
      this.pool ??= this.createAdapterPool(this.options.databaseUrl);
      server.adapter(createAdapter(this.pool, { errorHandler: (error) => this.logDatabaseError(error) }));
    }
    return server;
  }

  /**
   * socket.io's close discards packets still queued per connection, and the
   * last events of runs that finished while the service drained are exactly
   * those; events stored but not sent yet go out first, then a disconnect
   * writes what is queued, then the server closes, and its adapter's pool last.
   */
  override async close(server: Server): Promise<void> {
    // A database outage must not hold up shutdown.
    await settlesWithin(this.app.get(EventsGateway).flush(), FLUSH_TIMEOUT_MS);
    server.local.disconnectSockets(true);
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    while (server.engine.clientsCount > 0 && Date.now() < deadline) await delay(10);
    await super.close(server);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /**
   * The adapter holds one client for LISTEN and, when the server drops it (a
   * restart, an outage), takes a new one without releasing the dead one: the
   * pool would count it forever and, once full, never hand out another. A
   * checked-out client that ends is released with an error, which removes it.
   */
  private createAdapterPool(url: string): Pool {
    const pool = createPool(url, { poolSize: ADAPTER_POOL_SIZE, onIdleError: (error) => this.logDatabaseError(error) });
    const checkedOut = new Set<PoolClient>();
    pool.on('acquire', (client) => checkedOut.add(client));
    pool.on('release', (_error, client) => checkedOut.delete(client));
    pool.on('connect', (client) =>
      client.once('end', () => {
        if (checkedOut.has(client)) client.release(new Error('connection ended'));
      }),
    );
    return pool;
  }

  private logDatabaseError(error: Error): void {
    this.databaseLogger.warn({
      msg: 'socket.io adapter: database error',
      error: redactCredentials(String(error?.message ?? error)),
      code: (error as { code?: string })?.code,
    });
  }
}
