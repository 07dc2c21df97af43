import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AppModule, type AppOptions } from './app.module.js';
import { ConfiguredIoAdapter } from './gateway/configured-io.adapter.js';
import { corsOptions } from './gateway/cors-options.js';
import { nestLogger, requestLogger } from './logging/logging.module.js';

const BODY_LIMIT = '16kb';

/** Builds the application exactly as `main.ts` runs it; the end-to-end tests use it too. */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    logger: nestLogger(options.env),
    cors: corsOptions(options.env),
    // A provider that cannot be built (the database file cannot be opened) rejects here, so that
    // bootstrap prints its one `fatal` line, instead of Nest logging it and aborting the process.
    abortOnError: false,
    // Registered below with a limit: no route takes a body larger than a few hundred bytes.
    bodyParser: false,
  });
  // First: a request the body parser refuses gets its log line too.
  app.use(requestLogger(options.env));
  // Before the body parsers, so that a body they refuse is answered with these headers too. Helmet's
  // defaults (CSP included) suit an API that serves no HTML, and drop Express's X-Powered-By;
  // socket.io answers its own requests before Express, so its handshakes are untouched.
  app.use(helmet());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false });
  // Rate limits count by client address: behind TRUST_PROXY proxies, it is the one they forward.
  app.set('trust proxy', options.env.TRUST_PROXY);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useWebSocketAdapter(app.get(ConfiguredIoAdapter));
  return app;
}
