import { ConsoleLogger, INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import { AppModule, type AppOptions } from './app.module.js';
import { LOG_LEVELS, type Env } from './config/env.js';
import { ConfiguredIoAdapter } from './gateway/configured-io.adapter.js';

/** Builds the application exactly as `main.ts` runs it; the end-to-end tests use it too. */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  const cors = corsOptions(options.env);
  const app = await NestFactory.create(AppModule.forRoot(options), {
    logger: new ConsoleLogger({ json: true, logLevels: logLevelsUpTo(options.env.LOG_LEVEL) }),
    cors,
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app, { cors, databaseUrl: options.env.DATABASE_URL }));
  return app;
}

function corsOptions(env: Env): CorsOptions {
  const origins = env.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return { origin: origins.includes('*') ? true : origins };
}

function logLevelsUpTo(level: Env['LOG_LEVEL']) {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
