import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level } from 'pino';
import type { Options } from 'pino-http';
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
 * pino-http's part of the options: the request line above and nothing else. Neither the request
 * (headers, cookies) nor the response is bound to the logger; lines written while a request is
 * served carry its `reqId`, as its request line does.
 */
export function requestLogOptions(): Options<LoggedRequest> {
  return {
    quietReqLogger: true,
    quietResLogger: true,
    customLogLevel: requestLevel,
    customSuccessObject: (req, res, { responseTime }: { responseTime: number }) => requestLine(req, res, responseTime),
    // The exception of a 500 is logged by Nest with its stack; the request line only says how the request ended.
    customErrorObject: (req, res, _error, { responseTime }: { responseTime: number }) =>
      requestLine(req, res, responseTime),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    // Anything that logs a request or a response anyway gets these few fields, never their headers.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: withoutSecretParameters(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
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
