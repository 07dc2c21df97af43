import { Module } from '@nestjs/common';
import { Env } from '../config/env.js';
import { isPostgresUrl } from '../database/database.js';
import { DatabaseModule } from '../database/database.module.js';
import { EventFeed } from './event-feed.js';
import { EventsController } from './events.controller.js';
import { NotifierService } from './notifier.service.js';
import { NO_REPLICAS, REPLICA_HINTS, type ReplicaHints } from './replica-hints.js';

/** Publishing, storing and reading events, and the hints that carry them between replicas. */
@Module({
  imports: [DatabaseModule],
  controllers: [EventsController],
  providers: [
    NotifierService,
    EventFeed,
    {
      provide: REPLICA_HINTS,
      inject: [Env],
      // Replicas share events through a PostgreSQL database; a SQLite file serves one process, which
      // never loads the PostgreSQL adapter and its client.
      useFactory: async (env: Env): Promise<ReplicaHints> => {
        if (!isPostgresUrl(env.DATABASE_URL)) return NO_REPLICAS;
        const { PostgresReplicaHints } = await import('./postgres-replica-hints.js');
        return new PostgresReplicaHints(env.DATABASE_URL);
      },
    },
  ],
  exports: [NotifierService, EventFeed],
})
export class NotifierModule {}
