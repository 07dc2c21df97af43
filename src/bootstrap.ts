import { Logger, type INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { AppOptions } from './app.module.js';
import { messageOf } from './common/errors.js';
import { EnvValidationError, loadEnv, redactCredentials } from './config/env.js';
import { DatabaseUrlError } from './database/database.js';
import { writeStartUpFailure } from './logging/start-up-failure.js';

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
    // Initialised apart from listen, so that a failure to bind is told apart from a failure to start.
    await app.init();
    try {
      // Runs are recorded only once this resolves (the start-up report, catch-up, the timers): see whenListening.
      await app.listen(env.PORT, env.HOST);
    } catch (error) {
      return exitWith(`HOST=${env.HOST}, PORT=${env.PORT}: cannot listen: ${messageOf(error)}`);
    }
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    new Logger('Main').log({ msg: 'listening', host: env.HOST, port });
    return app;
  } catch (error) {
    // A message that says it all stands alone; anything else keeps its stack.
    const saysItAll = error instanceof EnvValidationError || error instanceof DatabaseUrlError;
    return exitWith(saysItAll ? error.message : ((error as Error)?.stack ?? String(error)));
  }
}

function exitWith(message: string): never {
  writeStartUpFailure(redactCredentials(message));
  process.exit(1);
}
