import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { EnvValidationError, loadEnv } from './config/env.js';

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = loadEnv(process.env);
  const app = await createApp({ env });
  // useProcessExit: exit 0 once shut down, instead of re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(env.PORT, env.HOST);
  const { port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Main').log({ msg: 'listening', host: env.HOST, port });
}

bootstrap().catch((error: unknown) => {
  const message = error instanceof EnvValidationError ? error.message : (error as Error)?.stack ?? String(error);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', context: 'Main', message })}\n`);
  process.exit(1);
});
