import { Module, type DynamicModule, type LoggerService } from '@nestjs/common';
import type { RequestHandler } from 'express';
import { Logger, LoggerModule, PinoLogger, type Params } from 'nestjs-pino';
import { pino } from 'pino';
import type { Env } from '../config/env.js';
import { logDestination } from './log-destination.js';
import { loggerOptions } from './log-format.js';
import { REQUEST_SERIALIZERS, requestLogMiddleware, type LoggedRequest } from './request-log.js';

interface Logging {
  /** Express middleware that writes each request's line (request-log.ts). */
  requests: RequestHandler;
  params: Params<LoggedRequest>;
  /** Why the lines are JSON although NODE_ENV=development asked for readable ones. */
  prettyUnavailable?: string;
}

/**
 * One logger per Env: LoggingModule, nestLogger and requestLogger share its streams. (nestjs-pino
 * keeps one root logger per process, from the first settings it gets: a process runs one
 * application, and the tests that start several in one process start them all at LOG_LEVEL=error.)
 */
const loggings = new WeakMap<Env, Logging>();

function loggingFor(env: Env): Logging {
  let logging = loggings.get(env);
  if (!logging) {
    const { stream, prettyUnavailable } = logDestination(env.NODE_ENV);
    const logger = pino(loggerOptions(env.LOG_LEVEL, REQUEST_SERIALIZERS), stream);
    // useExisting: the request logger is mounted by createApp, before the body parser (see requestLogger);
    // nestjs-pino only binds each request's logger (`req.log`, with its reqId) to the lines written while it
    // is served. Its root, for the other lines, is the same logger (wrapSerializers: keep ours).
    const params: Params<LoggedRequest> = {
      pinoHttp: { logger, wrapSerializers: false },
      useExisting: true,
    };
    logging = { requests: requestLogMiddleware(logger), params, prettyUnavailable };
    loggings.set(env, logging);
  }
  return logging;
}

/**
 * Every line through pino (nestjs-pino): `new Logger(Context).log({ msg, ...fields })` becomes one
 * JSON line with the fields at top level, beside `level`, `time` and `context`.
 */
@Module({})
export class LoggingModule {
  static forRoot(env: Env): DynamicModule {
    return { module: LoggingModule, imports: [LoggerModule.forRoot(loggingFor(env).params)] };
  }
}

/** The logger Nest writes through (NestFactory.create's `logger`): pino's, from the first line of start-up on. */
export function nestLogger(env: Env): LoggerService {
  const { params, prettyUnavailable } = loggingFor(env);
  const logger = new Logger(new PinoLogger(params), params);
  if (prettyUnavailable) {
    logger.warn({ msg: 'pino-pretty unavailable: writing JSON lines', error: prettyUnavailable }, 'Logging');
  }
  return logger;
}

/**
 * Express middleware writing one line per HTTP request (request-log.ts). Mounted before any other,
 * so that a request the body parser refuses (too large, malformed JSON) gets its line too.
 */
export function requestLogger(env: Env): RequestHandler {
  return loggingFor(env).requests;
}
