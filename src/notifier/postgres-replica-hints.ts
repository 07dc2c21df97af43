import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createAdapter } from '@socket.io/postgres-adapter';
import type { Pool, PoolClient } from 'pg';
import { Subject } from 'rxjs';
import { Server, type DefaultEventsMap } from 'socket.io';
import { settlesWithin } from '../common/settles-within.js';
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

/** How long start-up waits for the LISTEN connection, and shutdown for the connections to close. */
const CONNECTION_WAIT_MS = 5000;

/**
 * Hints between replicas over socket.io's PostgreSQL adapter (LISTEN/NOTIFY
 * on the service's database), as `serverSideEmit` messages of the default
 * namespace: earlier versions sent them from the gateway's server on the same
 * channel, so both hear each other during a rolling upgrade. The socket.io
 * server here serves no client, it only gives the adapter its namespace: the
 * gateway's own server delivers to local sockets only.
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
  private io: Server<DefaultEventsMap, DefaultEventsMap, ReplicaMessages> | undefined;

  constructor(private readonly databaseUrl: string) {}

  /** Returns once this replica hears the others, or after CONNECTION_WAIT_MS (the adapter keeps trying). */
  async onModuleInit(): Promise<void> {
    const pool = (this.pool = await this.createAdapterPool());
    const listening = whenListening(pool);
    this.io = new Server({
      serveClient: false,
      adapter: createAdapter(pool, { errorHandler: (error) => this.logDatabaseError(error) }),
    });
    this.io.on(PUBLISHED, (id) => {
      if (typeof id === 'number' && Number.isSafeInteger(id)) this.received.next(id);
    });
    if (!(await settlesWithin(listening, CONNECTION_WAIT_MS))) {
      this.logger.warn({ msg: 'socket.io adapter: not listening yet; hints of other replicas wait for it' });
    }
  }

  announce(id: number): void {
    this.throttle.offer(id);
  }

  /** After the runner drained (`beforeApplicationShutdown`), so the events it published meanwhile were announced. */
  async onApplicationShutdown(): Promise<void> {
    const [io, pool] = [this.io, this.pool];
    this.io = this.pool = undefined;
    this.received.complete();
    await io?.of('/').adapter.close();
    // A LISTEN connection the adapter was still setting up when it closed is never released.
    if (pool && !(await settlesWithin(pool.end(), CONNECTION_WAIT_MS))) {
      this.logger.warn({ msg: 'socket.io adapter: a connection was still held at shutdown' });
    }
  }

  /**
   * The adapter holds one client for LISTEN and, when the server drops it (a
   * restart, an outage), takes a new one without releasing the dead one: the
   * pool would count it forever and, once full, never hand out another. A
   * checked-out client that ends is released with an error, which removes it.
   */
  private async createAdapterPool(): Promise<Pool> {
    const pool = await createPool(this.databaseUrl, {
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

/**
 * Resolves once the adapter's LISTEN connection is set up: closing the
 * adapter releases that connection only then (while it is being set up, the
 * adapter would keep it, and the pool could never end). The adapter's
 * connection is the one it listens for notifications on; a query queued on it
 * after the adapter's LISTEN answers once the LISTEN is done.
 */
function whenListening(pool: Pool): Promise<void> {
  return new Promise((resolve) => {
    const check = (client: PoolClient) =>
      // After the adapter, which gets the client in a microtask, has added its listener.
      setImmediate(() => {
        if (client.listenerCount('notification') === 0) return;
        pool.off('acquire', check);
        client.query('SELECT 1').then(
          () => resolve(),
          () => resolve(),
        );
      });
    pool.on('acquire', check);
  });
}
