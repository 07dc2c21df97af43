import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type SchemaObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { BEARER_SCHEME } from './api-responses.js';
import { eventSchemas } from './event-docs.js';
import { referencedSchemas } from './referenced-schemas.js';
import { SHARED_SCHEMAS } from './schemas.js';

/** The service's version, from package.json (two folders up, from src/api-docs and dist/api-docs alike). */
export const SERVICE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const OPENAPI_PATH = '/api/docs-json';
export const ASYNCAPI_PATH = '/api/asyncapi.json';

const DESCRIPTION = `Runs scheduled and on-demand jobs and reports on them. Live events go over socket.io, described in AsyncAPI at [${ASYNCAPI_PATH}](${ASYNCAPI_PATH}).

**Sign-in.** Routes that need a role take a bearer token (a JWT from your identity provider, with AUTH_MODE=jwt): \`viewer\` reads, \`operator\` also triggers, retries, pauses and resumes (and implies viewer). Each operation names its role in \`x-required-role\`. With AUTH_MODE=off (outside production) every caller is an operator and no token is needed.

**Errors** use Nest's body, \`{ "statusCode": 404, "message": "job \\"nope\\" does not exist", "error": "Not Found" }\`; a 400 of validation lists one message per problem. Any request whose JSON body is malformed gets 400, and one whose body is over 16 kB gets 413.

**Rate limits.** Requests to routes that need a role count against a budget per user and minute: RATE_LIMIT_READS for reads, RATE_LIMIT_WRITES for writes; over it, 429 with Retry-After. Public routes (probes, these descriptions) are exempt.`;

/** The REST API's OpenAPI 3.1 document, from the routes' decorators and the shared schemas. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('jobpulse REST API')
    .setVersion(SERVICE_VERSION)
    .setDescription(DESCRIPTION)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A token from the identity provider (AUTH_JWKS_URL) or signed with AUTH_JWT_SECRET.',
      },
      BEARER_SCHEME,
    )
    .addTag('jobs', 'Jobs, their schedules, triggers, pause and resume')
    .addTag('runs', 'Runs of jobs, and retrying one by hand')
    .addTag('schedules', 'Cron expressions, previewed')
    .addTag('reports', 'Stored reports')
    .addTag('events', 'Stored events, to catch up over REST')
    .addTag('health', 'Probes')
    .addTag('api-docs', 'These descriptions')
    .build();
  const pool: Record<string, SchemaObject> = { ...SHARED_SCHEMAS, ...eventSchemas() };
  const document = SwaggerModule.createDocument(
    app,
    { ...config, components: { ...config.components, schemas: pool } },
    { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` },
  );
  document.components = {
    ...document.components,
    schemas: referencedSchemas(document.paths, { ...pool, ...document.components?.schemas }),
  };
  return document;
}
