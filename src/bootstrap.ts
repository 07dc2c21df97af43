import { Logger, type INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { AppOptions } from './app.module.js';
import { EnvValidationError, loadEnv } from './config/env.js';

/**
 * Starts the service from the environment (and `./.env` when present), exits
 * 0 after a graceful SIGTERM/SIGINT shutdown, and exits 1 with a message when
 * start-up fails.
 */
export async function bootstrap(options: Omit<AppOptions, 'env'> = {}): Promise<INestApplication | undefined> {
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    const env = loadEnv(process.env);
    const app = await createApp({ ...options, env });
    // useProcessExit: exit 0 once shut down, instead of re-raising the signal.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await app.listen(env.PORT, env.HOST);
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    new Logger('Main').log({ msg: 'listening', host: env.HOST, port });
    return app;
  } catch (error) {
    const message = error instanceof EnvValidationError ? error.message : ((error as Error)?.stack ?? String(error));
    process.stderr.write(`${JSON.stringify({ level: 'fatal', context: 'Main', message })}\n`);
    process.exit(1);
  }
}
