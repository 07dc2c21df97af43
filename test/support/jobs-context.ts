import type { Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Clock } from '../../src/common/clock.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { loadEnv } from '../../src/config/env.js';
import { DatabaseModule } from '../../src/database/database.module.js';
import { JobsModule } from '../../src/jobs/jobs.module.js';
import { moduleOf } from './app.js';

/** The jobs feature as the application wires it, on a real database, without HTTP: for medium specs of its services. */
export interface JobsContext {
  moduleRef: TestingModule;
  get<T>(token: Type<T> | symbol): T;
  /** Runs the shutdown hooks (timers stopped, runs drained); safe to call twice. */
  close(): Promise<void>;
}

export interface JobsContextOptions {
  /** A DATABASE_URL (see temporaryDatabase): replicas are contexts on the same one. */
  databaseUrl: string;
  clock: Clock;
  /** Providers with `@Job` methods, beside the built-in jobs. */
  jobs?: Type[];
  env?: Record<string, string>;
}

export async function startJobsContext({
  databaseUrl,
  clock,
  jobs = [],
  env = {},
}: JobsContextOptions): Promise<JobsContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(loadEnv({ DATABASE_URL: databaseUrl, REPORT_ON_STARTUP: 'false', ...env }), clock),
      DatabaseModule,
      ScheduleModule.forRoot(),
      JobsModule.forRoot(),
      moduleOf(jobs),
    ],
  }).compile();
  await moduleRef.init();
  let closed: Promise<void> | undefined;
  const context: JobsContext = {
    moduleRef,
    get: <T>(token: Type<T> | symbol) => moduleRef.get<T>(token, { strict: false }),
    close: () => (closed ??= moduleRef.close()),
  };
  return context;
}
