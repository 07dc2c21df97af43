import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';
import type { Principal } from '../auth/access.decorator.js';
import { REDACTED } from './log-format.js';
import { controllerRouteOf, type RoutedRequest } from '../common/route-template.js';

/** What Express and the auth guard add to a request by the time its response is finished. */
export interface LoggedRequest extends IncomingMessage, RoutedRequest {
  originalUrl?: string;
  user?: Pick<Principal, 'sub'>;
}

/** The one line written for each HTTP request, once its response is finished. */
export interface RequestLine {
  context: 'HTTP';
  method: string | undefined;
  /** The route's template (`/api/jobs/:name/trigger`); none when no route matched (a 404). */
  route: string | undefined;
  /** The path and query, with credentials in the query replaced. */
  url: string;
  status: number;
  durationMs: number;
  /** The signed-in user's `sub`; none on public routes, which the guard does not sign in. */
  user: string | undefined;
}

/** Query parameters that carry credentials: `token`, `access_token`, `client_secret`, `password`, ... */
const SECRET_PARAMETER = /token|secret|password/i;

/** Probes and scrapes come every few seconds: written only at LOG_LEVEL=debug, whatever they answer. */
const QUIET_PATH = /^\/(health(\/.*)?|metrics)$/;

/** The request's path and query, the value of every credential parameter replaced. */
export function withoutSecretParameters(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const pairs = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0];
      return SECRET_PARAMETER.test(decodedOrRaw(name)) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start)}?${pairs.join('&')}`;
}

export function requestLine(req: LoggedRequest, res: ServerResponse, durationMs: number): RequestLine {
  return {
    context: 'HTTP',
    method: req.method,
    route: controllerRouteOf(req),
    url: withoutSecretParameters(urlOf(req)),
    status: res.statusCode,
    durationMs,
    user: req.user?.sub,
  };
}

/** Server errors are errors (on stderr), client errors warnings; probes and scrapes are debug whatever they answer. */
export function requestLevel(req: LoggedRequest, res: ServerResponse, error?: Error): Level {
  if (QUIET_PATH.test(urlOf(req).split('?', 1)[0])) return 'debug';
  if (error || res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  return 'info';
}

/**
 * Anything that logs a request or a response anyway gets these few fields, never their headers
 * (neither is bound to a logger: lines written while a request is served carry its `reqId` only).
 */
export const REQUEST_SERIALIZERS = {
  req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: withoutSecretParameters(urlOf(req)) }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
};

/** Request ids count up from 1, wrapping past 2^31 - 1. */
const MAX_REQUEST_ID = 2147483647;

/**
 * Express middleware giving each request its id and a logger that writes it as `reqId` (`req.log`,
 * which nestjs-pino binds to the lines written while the request is served), then the request's
 * one line once its response is finished, or its connection closed first: `request completed`, or
 * `request failed` for a 5xx or an error (whose exception Nest logs with its stack: the line only
 * says how the request ended). pino-http did this, but also built and redacted a second logger per
 * request, holding the request, that nothing wrote through.
 */
export function requestLogMiddleware(logger: Logger) {
  let lastId = 0;
  return (req: LoggedRequest, res: ServerResponse, next: () => void): void => {
    req.id = lastId = (lastId + 1) & MAX_REQUEST_ID;
    const log = logger.child({ reqId: req.id });
    req.log = log;
    const startedAt = Date.now();
    const finished = (error?: Error) => {
      res.off('close', finished);
      res.off('finish', finished);
      res.off('error', finished);
      const line = requestLine(req, res, Date.now() - startedAt);
      log[requestLevel(req, res, error)](line, error || res.statusCode >= 500 ? 'request failed' : 'request completed');
    };
    res.on('close', finished);
    res.on('finish', finished);
    res.on('error', finished);
    next();
  };
}

function urlOf(req: LoggedRequest): string {
  return req.originalUrl ?? req.url ?? '';
}

function decodedOrRaw(component: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return component;
  }
}
