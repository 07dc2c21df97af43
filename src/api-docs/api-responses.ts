import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ApiBearerAuth, ApiExtension, ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
import type { AccessLevel } from '../auth/access.decorator.js';
import { ref, type SharedSchemaName } from './schemas.js';

/** The OpenAPI security scheme of the bearer tokens (`DocumentBuilder.addBearerAuth`'s default name). */
export const BEARER_SCHEME = 'bearer';

/** The extension naming the role an operation needs. */
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';

/**
 * An error response in Nest's error body. Two for the same status on one
 * method (a route's own 503 and sign-in's) are merged by @nestjs/swagger,
 * their descriptions joined.
 */
export function ApiError(
  status: number,
  description: string,
  body: SharedSchemaName = 'ErrorBody',
  headers?: ApiResponseOptions['headers'],
): MethodDecorator {
  return ApiResponse({ status, description, schema: ref(body), ...(headers && { headers }) });
}

/** 400 for a query or body the global ValidationPipe refuses. */
export const ApiValidationError = () =>
  ApiError(400, 'The query failed validation (an unknown parameter included).', 'ValidationErrorBody');

const ROUTES_DOCUMENTED = Symbol('jobpulse:access-documented');

/**
 * What `@Access(level)` means for a client: for a role, the bearer token,
 * the role (as `x-required-role`), and the answers of the auth guard (401,
 * 403, 503) and of the rate limits (429; public routes are exempt from them).
 * On a class, each route method gets it unless the method declares its own.
 */
export function ApiAccess(level: AccessLevel): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) return documentRoute(level, target, key!, descriptor);
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = Object.getOwnPropertyDescriptor(prototype, name)!;
      const handler: unknown = method.value;
      const isRoute = typeof handler === 'function' && Reflect.hasMetadata(PATH_METADATA, handler);
      if (isRoute && !Reflect.hasOwnMetadata(ROUTES_DOCUMENTED, handler)) documentRoute(level, prototype, name, method);
    }
  };
}

function documentRoute(level: AccessLevel, target: object, key: string | symbol, descriptor: PropertyDescriptor): void {
  Reflect.defineMetadata(ROUTES_DOCUMENTED, level, descriptor.value as object);
  if (level === 'public') return;
  const decorators: MethodDecorator[] = [
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension(REQUIRED_ROLE_EXTENSION, level),
    ApiError(
      401,
      'No valid bearer token: none was sent, or it is expired, not yet valid, badly signed, or for another issuer or audience.',
      'ErrorBody',
      {
        'WWW-Authenticate': {
          description: 'Bearer realm="jobpulse", with error="invalid_token" and error_description saying why.',
          schema: { type: 'string' },
        },
      },
    ),
    ApiError(
      403,
      `The token does not grant the ${level} role; or the request is a write from an origin CORS_ORIGINS does not allow.`,
    ),
    ApiError(
      429,
      'Over the rate limit: RATE_LIMIT_READS reads, or RATE_LIMIT_WRITES writes (operator routes and costly reads such as the schedule preview), a minute per user (per address without sign-in).',
      'ErrorBody',
      { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } },
    ),
    ApiError(503, 'Sign-in is unavailable: the key set at AUTH_JWKS_URL cannot be fetched.'),
  ];
  for (const decorate of decorators) decorate(target, key, descriptor);
}

/** 503 of StorageErrorFilter (any route that reads or writes the database) and StorageWriteGuard (writes). */
export const ApiStorageUnavailable = () =>
  ApiError(
    503,
    'The database cannot serve the request: its disk is full, its file is gone, replaced or read-only, or it cannot be reached or is busy; nothing was recorded.',
    'ErrorBody',
    { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } },
  );
