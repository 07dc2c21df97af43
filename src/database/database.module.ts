import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Kysely } from 'kysely';
import { Env, redactCredentials } from '../config/env.js';
import { createDatabase, DATABASE, DatabaseUrlError, migrateToLatest } from './database.js';
import { EventsRepository } from './events.repository.js';
import { HealthRepository } from './health.repository.js';
import { JobStateRepository } from './job-state.repository.js';
import { ReportsRepository } from './reports.repository.js';
import { RetentionRepository } from './retention.repository.js';
import { RunsRepository } from './runs.repository.js';
import { StorageErrorFilter } from './storage-error.filter.js';
import type { Database } from './schema.js';

const repositories = [
  RunsRepository,
  ReportsRepository,
  EventsRepository,
  JobStateRepository,
  HealthRepository,
  RetentionRepository,
];

@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [Env],
      useFactory: (env: Env) => {
        const logger = new Logger('Database');
        return createDatabase(env.DATABASE_URL, {
          poolSize: env.DATABASE_POOL_SIZE,
          onIdleError: (error) =>
            logger.error({ msg: 'database connection lost', error: redactCredentials(error.message) }),
        });
      },
    },
    ...repositories,
    { provide: APP_FILTER, useClass: StorageErrorFilter },
  ],
  exports: [DATABASE, ...repositories],
})
export class DatabaseModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseModule.name);

  constructor(
    @Inject(DATABASE) private readonly db: Kysely<Database>,
    private readonly env: Env,
  ) {}

  /** The first queries: a database that cannot be reached or written fails start-up here, naming DATABASE_URL. */
  async onModuleInit(): Promise<void> {
    const applied = await migrateToLatest(this.db).catch((error: Error) => {
      throw new DatabaseUrlError(this.env.DATABASE_URL, error.message);
    });
    this.logger.log({ msg: 'database ready', migrationsApplied: applied });
  }

  /** Closed last, after the runner has drained and written its final run records. */
  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}
