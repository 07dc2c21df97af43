import { ConsoleLogger, INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import { AppModule, type AppOptions } from './app.module.js';
import { LOG_LEVELS, type Env } from './config/env.js';
import { ConfiguredIoAdapter } from './gateway/configured-io.adapter.js';
import { corsOptions } from './gateway/cors-options.js';

/** Builds the application exactly as `main.ts` runs it; the end-to-end tests use it too. */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(options), {
    logger: new ConsoleLogger({ json: true, logLevels: logLevelsUpTo(options.env.LOG_LEVEL) }),
    cors: corsOptions(options.env),
    // A provider that cannot be built (the database file cannot be opened) rejects here, so that
    // bootstrap prints its one `fatal` line, instead of Nest logging it and aborting the process.
    abortOnError: false,
  });
  // Helmet's defaults (CSP included) suit an API that serves no HTML, and drop Express's X-Powered-By;
  // socket.io answers its own requests before Express, so its handshakes are untouched.
  app.use(helmet());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useWebSocketAdapter(app.get(ConfiguredIoAdapter));
  return app;
}

function logLevelsUpTo(level: Env['LOG_LEVEL']) {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
