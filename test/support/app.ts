import { Module, type INestApplication, type Type } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { loadEnv } from '../../src/config/env.js';
import type { IReportGenerator } from '../../src/reports/report-generator.js';
import { temporaryDatabase } from './database.js';
import { UNLIMITED_RATES } from './server-process.js';

export interface TestApp {
  app: INestApplication;
  url: string;
  /** The app's DATABASE_URL: pass it back to `startApp` to restart on the same data. */
  databaseUrl: string;
  /** Closes the app, then removes the database if `startApp` created it. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment on top of the test defaults (NODE_ENV=test, port 0, a fresh temporary database, no start-up report, errors only in logs). */
  env?: Record<string, string>;
  reportGenerator?: Type<IReportGenerator>;
  /** Providers with `@Job` methods of the test's own, beside the built-in jobs: provided in a module of their own. */
  jobs?: Type[];
  /** Modules of the test's own, imported by the application as a user's modules are. */
  imports?: Type[];
  /**
   * Reuse a database, e.g. to restart on the same data: a {@link temporaryDatabase}'s `url` (the
   * caller removes it) or an earlier app's `databaseUrl`. Without it, the app gets a fresh
   * database of the project's dialect, removed by `close()`.
   */
  databaseUrl?: string;
}

/** Starts the real application, as main.ts does, on a random port with a fresh database of the project's dialect. */
export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  const temporary = options.databaseUrl ? undefined : await temporaryDatabase();
  const databaseUrl = options.databaseUrl ?? temporary!.url;
  try {
    const env = loadEnv({
      // JSON log lines, as in production; development would print them for humans.
      NODE_ENV: 'test',
      // Specs poll far faster than any client; test/rate-limits.e2e-spec.ts sets the limits it tests.
      ...UNLIMITED_RATES,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      REPORT_ON_STARTUP: 'false',
      DATABASE_URL: databaseUrl,
      ...options.env,
    });
    const app = await createApp({
      env,
      reportGenerator: options.reportGenerator,
      imports: [moduleOf(options.jobs ?? []), ...(options.imports ?? [])],
    });
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    return {
      app,
      url: `http://127.0.0.1:${port}`,
      databaseUrl,
      close: async () => {
        try {
          await app.close();
        } finally {
          await temporary?.remove();
        }
      },
    };
  } catch (error) {
    await temporary?.remove();
    throw error;
  }
}

/** A module providing `providers`, as a user's feature module would. */
export function moduleOf(providers: Type[]): Type {
  @Module({ providers })
  class TestJobsModule {}
  return TestJobsModule;
}
