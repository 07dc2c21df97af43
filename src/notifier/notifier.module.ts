import { Module } from '@nestjs/common';
import { Env } from '../config/env.js';
import { isPostgresUrl } from '../database/database.js';
import { DatabaseModule } from '../database/database.module.js';
import { EventFeed } from './event-feed.js';
import { EventsController } from './events.controller.js';
import { NotifierService } from './notifier.service.js';
import { PostgresReplicaHints } from './postgres-replica-hints.js';
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
      // Replicas share events through a PostgreSQL database; a SQLite file serves one process.
      useFactory: (env: Env): ReplicaHints =>
        isPostgresUrl(env.DATABASE_URL) ? new PostgresReplicaHints(env.DATABASE_URL) : NO_REPLICAS,
    },
  ],
  exports: [NotifierService, EventFeed],
})
export class NotifierModule {}
