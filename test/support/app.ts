import type { INestApplication, Type } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { loadEnv } from '../../src/config/env.js';
import type { Job } from '../../src/jobs/job.js';
import type { IReportGenerator } from '../../src/reports/report-generator.js';
import { temporaryDatabase } from './database.js';

export interface TestApp {
  app: INestApplication;
  url: string;
  /** The app's DATABASE_URL: pass it back to `startApp` to restart on the same data. */
  databaseUrl: string;
  /** Closes the app, then removes the database if `startApp` created it. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment on top of the test defaults (port 0, a fresh temporary database, no start-up report, errors only in logs). */
  env?: Record<string, string>;
  reportGenerator?: Type<IReportGenerator>;
  /** Jobs of the test's own, beside the built-in ones. */
  jobs?: Type<Job>[];
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
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      REPORT_ON_STARTUP: 'false',
      DATABASE_URL: databaseUrl,
      ...options.env,
    });
    const app = await createApp({ env, reportGenerator: options.reportGenerator, jobs: options.jobs });
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
