import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { Env } from '../config/env.js';
import { DatabaseModule } from '../database/database.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { ReadinessService } from './readiness.service.js';
import { SqliteFile } from './sqlite-file.js';
import { StorageWriteGuard } from './storage-write.guard.js';

@Module({
  // ReadinessService logs readiness once per change; terminus would log every failing probe.
  imports: [DatabaseModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    HealthService,
    ReadinessService,
    // null for PostgreSQL and an in-memory database: there is no file to watch.
    { provide: SqliteFile, inject: [Env], useFactory: (env: Env) => SqliteFile.of(env.DATABASE_URL) ?? null },
    { provide: APP_GUARD, useClass: StorageWriteGuard },
  ],
})
export class HealthModule {}
