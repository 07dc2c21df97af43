import type { INestApplication, Type } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { loadEnv } from '../../src/config/env.js';
import type { Job } from '../../src/jobs/job.js';
import type { IReportGenerator } from '../../src/reports/report-generator.js';

export interface TestApp {
  app: INestApplication;
  url: string;
  databaseFile: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment on top of the test defaults (port 0, a fresh temporary database, no start-up report, errors only in logs). */
  env?: Record<string, string>;
  reportGenerator?: Type<IReportGenerator>;
  /** Jobs of the test's own, beside the built-in ones. */
  jobs?: Type<Job>[];
  /** Reuse a database file, e.g. to restart on the same data. */
  databaseFile?: string;
}

export function temporaryDatabaseFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'jobpulse-'));
  return { file: join(dir, 'jobpulse.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts the real application, as main.ts does, on a random port with a temporary SQLite file. */
export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  const temporary = options.databaseFile ? undefined : temporaryDatabaseFile();
  const databaseFile = options.databaseFile ?? temporary!.file;
  const env = loadEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    REPORT_ON_STARTUP: 'false',
    DATABASE_URL: `sqlite:${databaseFile}`,
    ...options.env,
  });
  const app = await createApp({ env, reportGenerator: options.reportGenerator, jobs: options.jobs });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    databaseFile,
    close: async () => {
      await app.close();
      temporary?.remove();
    },
  };
}
