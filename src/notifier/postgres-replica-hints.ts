import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createAdapter } from '@socket.io/postgres-adapter';
import type { Pool, PoolClient } from 'pg';
import { Subject } from 'rxjs';
import { Server } from 'socket.io';
import { redactCredentials } from '../config/env.js';
import { createPool } from '../database/database.js';
import { NewestIdThrottle } from './newest-id-throttle.js';
import type { ReplicaHints } from './replica-hints.js';

/** The server-side message between replicas: "events up to this id are stored". */
const PUBLISHED = 'jobpulse:published';

interface ReplicaMessages {
  /** Sent as a number; read as anything, since another replica (another version) sent it. */
  [PUBLISHED]: (id: unknown) => void;
}

/** At most one announcement per this long: each costs the database a NOTIFY and every replica a message. */
const ANNOUNCE_INTERVAL_MS = 2;

/** The adapter's own connections: one held for LISTEN, one for NOTIFY and its clean-up. */
const ADAPTER_POOL_SIZE = 2;

/**
 * Hints between replicas over socket.io's PostgreSQL adapter (LISTEN/NOTIFY
 * on the service's database), as `serverSideEmit` messages of the default
 * namespace, which is how replicas of earlier versions exchange them too. The
 * socket.io server here serves no client: it is the adapter's namespace; the
 * gateway's server delivers to its own sockets only.
 */
export class PostgresReplicaHints implements ReplicaHints, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ReplicaHints');
  private readonly received = new Subject<number>();
  readonly announced$ = this.received.asObservable();
  private readonly throttle = new NewestIdThrottle(
    (id) => this.io?.serverSideEmit(PUBLISHED, id),
    ANNOUNCE_INTERVAL_MS,
  );
  private pool: Pool | undefined;
  private io: Server<ReplicaMessages, ReplicaMessages, ReplicaMessages> | undefined;

  constructor(private readonly databaseUrl: string) {}

  onModuleInit(): void {
    this.pool = this.createAdapterPool();
    this.io = new Server({
      serveClient: false,
      adapter: createAdapter(this.pool, { errorHandler: (error) => this.logDatabaseError(error) }),
    });
    this.io.on(PUBLISHED, (id) => {
      if (typeof id === 'number' && Number.isSafeInteger(id)) this.received.next(id);
    });
  }

  announce(id: number): void {
    this.throttle.offer(id);
  }

  /** After the gateway closed (Nest closes socket servers before shutdown hooks), so its last announcements went out. */
  async onApplicationShutdown(): Promise<void> {
    const [io, pool] = [this.io, this.pool];
    this.io = this.pool = undefined;
    this.received.complete();
    await io?.of('/').adapter.close();
    await pool?.end();
  }

  /**
   * The adapter holds one client for LISTEN and, when the server drops it (a
   * restart, an outage), takes a new one without releasing the dead one: the
   * pool would count it forever and, once full, never hand out another. A
   * checked-out client that ends is released with an error, which removes it.
   */
  private createAdapterPool(): Pool {
    const pool = createPool(this.databaseUrl, {
      poolSize: ADAPTER_POOL_SIZE,
      onIdleError: (error) => this.logDatabaseError(error),
    });
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
    this.logger.warn({
      msg: 'socket.io adapter: database error',
      error: redactCredentials(String(error?.message ?? error)),
      code: (error as { code?: string })?.code,
    });
  }
}
