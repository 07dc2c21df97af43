import { Injectable } from '@nestjs/common';
import request, { type Response } from 'supertest';
import { Job } from '../src/jobs/index.js';
import { EVENT_TOPICS, TOPICS, type EventType, type JobpulseEvent } from '../src/notifier/events.js';
import { startApp, type TestApp } from './support/app.js';
import { deferred, eventually } from './support/deferred.js';
import { routesOf, type Route } from './support/routes.js';
import { runEvent, TestClient } from './support/socket.js';
import {
  HS256_ENV,
  hs256Token,
  rsaKey,
  startJwksServer,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TokenOptions,
} from './support/tokens.js';

/** Holds its run until released: a busy job, for the 409s. */
@Injectable()
class BlockingJob {
  static release = deferred();

  @Job('blocking')
  run(): Promise<void> {
    return BlockingJob.release.promise;
  }
}

/** Fails every run: a run to retry by hand. */
@Injectable()
class FailingJob {
  @Job('failing')
  run(): Promise<void> {
    return Promise.reject(new Error('upstream down'));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents and schemas are untyped JSON
type Json = any;

/** The node a local `$ref` (`#/a/b`) points to. */
function resolve(document: Json, ref: string): Json {
  return ref
    .slice(2)
    .split('/')
    .reduce((node: Json, key) => node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], document);
}

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

function hasType(value: unknown, type: string): boolean {
  if (type === 'null') return value === null;
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

/**
 * Where `value` departs from the JSON Schema `schema` (the keywords the
 * documents use). Stricter than JSON Schema in one way: a property an object
 * schema with `properties` does not list is a problem unless
 * `additionalProperties` allows it, so a field the app sends but the
 * document omits is found.
 */
function problemsOf(value: unknown, schema: Json, document: Json, at: string): string[] {
  if (schema.$ref) return problemsOf(value, resolve(document, schema.$ref), document, at);
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    if (!schema[keyword]) continue;
    const outcomes: string[][] = schema[keyword].map((option: Json) => problemsOf(value, option, document, at));
    const fitting = outcomes.filter((problems) => problems.length === 0).length;
    if (fitting === 0)
      return outcomes.reduce((fewest, problems) => (problems.length < fewest.length ? problems : fewest));
    if (keyword === 'oneOf' && fitting > 1) return [`${at}: ${JSON.stringify(value)} fits ${fitting} of oneOf`];
  }
  const types: string[] = [schema.type ?? []].flat();
  if (types.length > 0 && !types.some((type) => hasType(value, type)))
    return [`${at}: ${JSON.stringify(value)} is not ${types.join(' or ')}`];
  if (schema.enum && !schema.enum.includes(value))
    return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum}`];
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return [`${at}: ${value} < ${schema.minimum}`];
    if (schema.maximum !== undefined && value > schema.maximum) return [`${at}: ${value} > ${schema.maximum}`];
  }
  if (typeof value === 'string' && schema.format === 'date-time' && !ISO_INSTANT.test(value))
    return [`${at}: ${value} is not a date-time`];
  if (Array.isArray(value) && schema.items)
    return value.flatMap((item, index) => problemsOf(item, schema.items, document, `${at}[${index}]`));
  if (!hasType(value, 'object') || (!schema.properties && schema.additionalProperties === undefined)) return [];
  const object = value as Record<string, unknown>;
  const missing = (schema.required ?? []).filter((key: string) => !(key in object));
  return [
    ...missing.map((key: string) => `${at}.${key}: missing`),
    ...Object.entries(object).flatMap(([key, item]) => {
      const property = schema.properties?.[key] ?? schema.additionalProperties;
      if (property === true) return [];
      if (!property) return [`${at}.${key}: not documented`];
      return problemsOf(item, property, document, `${at}.${key}`);
    }),
  ];
}

/** The OpenAPI path of an Express route: `/api/jobs/:name` → `/api/jobs/{name}`. */
const documentedPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Express holds middleware applied to every route (`forRoutes('*')`) as wildcard routes: they are not endpoints. */
const isEndpoint = (route: Route) => !route.path.includes('*');

const ALL_TOPICS = [...TOPICS];

describe('API descriptions', () => {
  let server: TestApp;
  let openApi: Json;
  let asyncApi: Json;
  let routes: Route[];
  const tokenOf = (roles: string[], options: TokenOptions = {}) => hs256Token({ roles, ...options });

  beforeAll(async () => {
    // Limits high enough for every probe below; the 429s are probed on an app of their own.
    server = await startApp({
      env: { ...HS256_ENV },
      jobs: [BlockingJob, FailingJob],
    });
    routes = routesOf(server.app).filter(isEndpoint);
    openApi = (await request(server.url).get('/api/docs-json').expect(200)).body;
    asyncApi = (await request(server.url).get('/api/asyncapi.json').expect(200)).body;
  });

  afterAll(() => server.close());

  const operationOf = (route: Route): Json => openApi.paths[documentedPath(route.path)]?.[route.method.toLowerCase()];

  /** What is wrong with how the document describes `response` of `route`: its status, or its body. */
  function misdescribed(route: Route, response: Response): string[] {
    const where = `${route.method} ${route.path} ${response.status}`;
    const documented = operationOf(route)?.responses?.[response.status];
    if (!documented) return [`${where}: status not documented`];
    if (!response.type.includes('json')) return [];
    const schema = documented.content?.['application/json']?.schema;
    if (!schema) return [`${where}: JSON body not documented`];
    return problemsOf(response.body, schema, openApi, where);
  }

  describe('OpenAPI', () => {
    it('is OpenAPI 3.1 with the bearer scheme, served without a token', () => {
      expect(openApi.openapi).toBe('3.1.0');
      expect(openApi.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      expect(openApi.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    it('describes every route the router serves, and no other', () => {
      const served = routes.map((route) => `${route.method} ${documentedPath(route.path)}`).sort();
      const described = Object.entries(openApi.paths as Record<string, object>)
        .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();

      expect(served.length).toBeGreaterThan(10);
      expect(described).toEqual(served);
    });

    it('names the role each route enforces: bearer security and x-required-role where a role is needed, neither where none is', async () => {
      const viewer = await tokenOf(['viewer']);
      for (const route of routes) {
        const url = route.path.replace(/:\w+/g, 'x');
        const call = () => (route.method === 'POST' ? request(server.url).post(url) : request(server.url).get(url));
        const anonymous = await call();
        const role =
          anonymous.status !== 401
            ? 'public'
            : (await call().auth(viewer, { type: 'bearer' })).status === 403
              ? 'operator'
              : 'viewer';
        const operation = operationOf(route);

        expect({ route, role, security: operation.security, 'x-required-role': operation['x-required-role'] }).toEqual(
          role === 'public'
            ? { route, role, security: undefined, 'x-required-role': undefined }
            : { route, role, security: [{ bearer: [] }], 'x-required-role': role },
        );
        // /metrics answers 401 for its own METRICS_TOKEN (unset here), not for sign-in.
        if (role === 'public' && route.path !== '/metrics')
          expect(Object.keys(operation.responses)).not.toEqual(expect.arrayContaining(['401']));
      }
    });

    it('documents every status the routes answer, with bodies that match their schemas', async () => {
      const [operator, viewer, roleless] = await Promise.all([tokenOf(['operator']), tokenOf(['viewer']), tokenOf([])]);
      const client = await TestClient.connect(server.url, { auth: { token: viewer } });
      await client.emit('subscribe', { topics: ALL_TOPICS });
      const problems: string[] = [];
      const send = async (method: string, path: string, url: string, token?: string) => {
        const pending = method === 'POST' ? request(server.url).post(url) : request(server.url).get(url);
        const response = await (token ? pending.auth(token, { type: 'bearer' }) : pending);
        problems.push(...misdescribed({ method, path }, response));
        return response;
      };

      // Runs, a report and events to read: a success, a failure, and a busy job.
      const report = await send('POST', '/api/jobs/:name/trigger', '/api/jobs/daily-report/trigger', operator);
      const created = await client.waitFor(
        (event): event is JobpulseEvent<'report.created'> =>
          event.type === 'report.created' && event.data.runId === report.body.runId,
      );
      await send('POST', '/api/jobs/:name/trigger', '/api/jobs/cleanup/trigger', operator);
      const failing = await send('POST', '/api/jobs/:name/trigger', '/api/jobs/failing/trigger', operator);
      await client.waitFor(runEvent('job.failed', { runId: failing.body.runId }));
      await send('POST', '/api/runs/:id/retry', `/api/runs/${failing.body.runId}/retry`, operator);
      const blocking = await send('POST', '/api/jobs/:name/trigger', '/api/jobs/blocking/trigger', operator);
      const busy = await send('POST', '/api/jobs/:name/trigger', '/api/jobs/blocking/trigger', operator);
      const notRetryable = await send(
        'POST',
        '/api/runs/:id/retry',
        `/api/runs/${blocking.body.runId}/retry`,
        operator,
      );
      BlockingJob.release.resolve();
      await client.waitFor(runEvent('job.succeeded', { runId: blocking.body.runId }));
      await client.waitFor(runEvent('job.succeeded', { job: 'daily-report' }));
      expect([busy.status, notRetryable.status]).toEqual([409, 409]);

      const realUrl = ({ path }: Route) =>
        path
          .replace('/api/runs/:id', `/api/runs/${report.body.runId}`)
          .replace('/api/reports/:id', `/api/reports/${created.data.reportId}`)
          .replace(':name', 'daily-report')
          .replace(':file', 'swagger-ui.css');
      const validQuery = ({ path }: Route) => (path === '/api/schedules/preview' ? '?cron=0+0+7+*+*+%3F' : '');
      for (const route of routes) {
        const { method, path } = route;
        const unknownIds = path.replace(/:\w+/g, 'no-such-thing');
        await send(method, path, unknownIds);
        await send(method, path, unknownIds, roleless);
        await send(method, path, unknownIds, viewer);
        await send(method, path, unknownIds, operator);
        await send(method, path, `${unknownIds}?unknown=1`, operator);
        if (method === 'GET') {
          const ok = await send(method, path, `${realUrl(route)}${validQuery(route)}`, viewer);
          expect({ route, status: ok.status }).toEqual({ route, status: 200 });
          await send(method, path, `${realUrl(route)}?unknown=1`, viewer);
        } else if (!path.endsWith('/trigger') && !path.endsWith('/retry')) {
          await send(method, path, realUrl(route), operator);
        }
      }
      client.close();

      expect(problems).toEqual([]);
    });

    it('documents 429 on every route that needs a role, and none on the public routes, which are not limited', async () => {
      const limited = await startApp({ env: { ...HS256_ENV, RATE_LIMIT_READS: '1', RATE_LIMIT_WRITES: '1' } });
      try {
        const problems: string[] = [];
        for (const [index, route] of routes.entries()) {
          const url = route.path.replace(/:\w+/g, 'no-such-thing');
          // A user of its own per route: the limits count per user, across routes.
          const token = await tokenOf(['operator'], { sub: `user-${index}` });
          const responses: Response[] = [];
          for (let call = 0; call < 2; call++) {
            const pending = route.method === 'POST' ? request(limited.url).post(url) : request(limited.url).get(url);
            responses.push(await pending.auth(token, { type: 'bearer' }));
          }
          const limitedNow = responses[1].status === 429;
          problems.push(...misdescribed(route, responses[1]));
          if (!limitedNow && '429' in operationOf(route).responses)
            problems.push(`${route.method} ${route.path}: 429 documented but never answered`);
          if (limitedNow) expect(responses[1].headers['retry-after']).toMatch(/^\d+$/);
        }

        expect(problems).toEqual([]);
      } finally {
        await limited.close();
      }
    });

    it("documents 503 on every route that needs a role, for when the identity provider's key set cannot be fetched", async () => {
      const key = await rsaKey('key-1');
      const jwks = await startJwksServer([key]);
      await jwks.close();
      const unreachable = await startApp({
        env: {
          AUTH_JWKS_URL: jwks.url,
          AUTH_ISSUER: TEST_ISSUER,
          AUTH_AUDIENCE: TEST_AUDIENCE,
          AUTH_JWKS_COOLDOWN: '0',
        },
      });
      try {
        const token = await key.sign({ roles: ['operator'] });
        const problems: string[] = [];
        for (const route of routes.filter((route) => operationOf(route).security)) {
          const url = route.path.replace(/:\w+/g, 'no-such-thing');
          const pending =
            route.method === 'POST' ? request(unreachable.url).post(url) : request(unreachable.url).get(url);
          const response = await pending.auth(token, { type: 'bearer' });

          expect({ route, status: response.status }).toEqual({ route, status: 503 });
          problems.push(...misdescribed(route, response));
        }

        expect(problems).toEqual([]);
      } finally {
        await unreachable.close();
      }
    });
  });

  describe('Swagger UI', () => {
    it("serves a page whose scripts and stylesheets load, all of them allowed by the page's own CSP", async () => {
      const page = await request(server.url).get('/api/docs').expect(200);
      expect(page.type).toBe('text/html');
      const csp = new Map(
        page.headers['content-security-policy'].split(';').map((directive) => {
          const [name, ...sources] = directive.trim().split(/\s+/);
          return [name, sources];
        }),
      );
      const sourcesOf = (directive: string) => csp.get(directive) ?? csp.get('default-src') ?? [];
      const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      const stylesheets = [...page.text.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((match) => match[1]);

      expect(scripts.length).toBeGreaterThan(0);
      expect(stylesheets.length).toBeGreaterThan(0);
      // Upgraded to https, a page read over plain HTTP would load none of its files.
      expect(csp.has('upgrade-insecure-requests')).toBe(false);
      for (const [, attributes, inline] of scripts) {
        // No inline script: script-src has no 'unsafe-inline', and needs none.
        expect(inline.trim()).toBe('');
        const src = /src="([^"]+)"/.exec(attributes)![1];
        expect(new URL(src, `${server.url}/api/docs`).origin).toBe(server.url);
        expect(sourcesOf('script-src')).toContain("'self'");
        const script = await request(server.url).get(src);
        expect({ src, status: script.status, type: script.type }).toEqual({
          src,
          status: 200,
          type: 'text/javascript',
        });
        expect(script.text.length).toBeGreaterThan(0);
      }
      for (const href of stylesheets) {
        expect(new URL(href, `${server.url}/api/docs`).origin).toBe(server.url);
        expect(sourcesOf('style-src')).toContain("'self'");
        const stylesheet = await request(server.url).get(href);
        expect({ href, status: stylesheet.status, type: stylesheet.type }).toEqual({
          href,
          status: 200,
          type: 'text/css',
        });
      }
    });

    it('starts Swagger UI on the OpenAPI document, which it fetches from this origin', async () => {
      const init = await request(server.url).get('/api/docs/swagger-ui-init.js').expect(200);
      const url = /url: '([^']+)'/.exec(init.text)![1];

      expect(url.startsWith('/')).toBe(true);
      const fetched = await request(server.url).get(url).expect(200);
      expect(fetched.body).toEqual(openApi);
    });

    it('serves only the files the page names', async () => {
      await request(server.url).get('/api/docs/package.json').expect(404);
      await request(server.url).get('/api/docs/..%2F..%2Fpackage.json').expect(404);
      await request(server.url).get('/api/docs/index.html').expect(404);
    });
  });

  describe('AsyncAPI', () => {
    const messageOf = (ref: string) => resolve(asyncApi, resolve(asyncApi, ref).$ref ?? ref);
    const payloadsOf = (refs: { $ref: string }[]) => refs.map((ref) => messageOf(ref.$ref).payload);
    const fitsOne = (value: unknown, payloads: Json[], at: string) =>
      payloads.some((payload) => problemsOf(value, payload, asyncApi, at).length === 0)
        ? []
        : [`${at}: ${JSON.stringify(value)} fits none of ${JSON.stringify(payloads)}`];

    it('is AsyncAPI 3.0 whose references all resolve', () => {
      expect(asyncApi).toMatchObject({
        asyncapi: '3.0.0',
        info: { title: expect.any(String), version: expect.any(String) },
        channels: expect.any(Object),
        operations: expect.any(Object),
        components: { messages: expect.any(Object), schemas: expect.any(Object) },
      });
      const refs = JSON.stringify(asyncApi).match(/"\$ref":"[^"]+"/g) ?? [];
      const unresolved = refs.map((ref) => ref.slice(8, -1)).filter((ref) => resolve(asyncApi, ref) === undefined);

      expect(refs.length).toBeGreaterThan(0);
      expect(unresolved).toEqual([]);
      for (const operation of Object.values<Json>(asyncApi.operations)) {
        expect(['send', 'receive']).toContain(operation.action);
        expect(resolve(asyncApi, operation.channel.$ref)).toBeDefined();
      }
    });

    it('describes every event type of the event map, under the operation of its topic', () => {
      for (const type of Object.keys(EVENT_TOPICS) as EventType[]) {
        const topic = EVENT_TOPICS[type];
        const messages = asyncApi.operations[`${topic}Events`].messages.map((ref: Json) => messageOf(ref.$ref));
        const message = messages.find((candidate: Json) => candidate.title === type);

        expect({ type, name: message?.name }).toEqual({ type, name: 'event' });
        const envelope = resolve(asyncApi, message.payload.$ref);
        expect({ type, topic: envelope.properties.topic.enum, typed: envelope.properties.type.enum }).toEqual({
          type,
          topic: [topic],
          typed: [type],
        });
      }
    });

    it('describes the client messages with their DTOs, acknowledgements and the error acknowledgement', () => {
      for (const name of ['subscribe', 'unsubscribe', 'resume']) {
        const operation = asyncApi.operations[name];
        expect(operation.action).toBe('send');
        expect(payloadsOf(operation.messages).map((payload: Json) => payload.$ref)).toEqual([
          name === 'resume' ? '#/components/schemas/ResumeDto' : '#/components/schemas/SubscriptionDto',
        ]);
        const replies = payloadsOf(operation.reply.messages).map((payload: Json) => payload.$ref);
        expect(replies).toEqual(['#/components/schemas/SubscriptionAck', '#/components/schemas/ErrorAck']);
      }
      const { schemas } = asyncApi.components;
      expect(schemas.SubscriptionDto.properties.topics.items.enum).toEqual(ALL_TOPICS);
      expect(schemas.ResumeDto.properties.lastEventId).toMatchObject({ type: 'integer', minimum: 0 });
      expect(schemas.ErrorAck.properties.ok.enum).toEqual([false]);
      expect(Object.keys(schemas.HandshakeAuth.properties)).toEqual(['token', 'lastEventId']);
    });

    it('matches what the socket.io server sends: acknowledgements, errors, events by topic, resync and exception', async () => {
      const token = await tokenOf(['operator']);
      const client = await TestClient.connect(server.url, { auth: { token } });
      const problems: string[] = [];
      const ackPayloads = (operation: string) => payloadsOf(asyncApi.operations[operation].reply.messages);

      const subscribed = await client.emit('subscribe', { topics: ALL_TOPICS });
      const refused = await client.emit('subscribe', { topics: ['nope'] });
      const resumed = await client.emit('resume', { lastEventId: 0 });
      const left = await client.emit('unsubscribe', { topics: ['system'] });
      problems.push(...fitsOne(subscribed, ackPayloads('subscribe'), 'subscribe ack'));
      problems.push(...fitsOne(refused, ackPayloads('subscribe'), 'refused subscribe ack'));
      problems.push(...fitsOne(resumed, ackPayloads('resume'), 'resume ack'));
      problems.push(...fitsOne(left, ackPayloads('unsubscribe'), 'unsubscribe ack'));
      expect(refused).toMatchObject({ ok: false });
      const report = await request(server.url)
        .post('/api/jobs/daily-report/trigger')
        .auth(token, { type: 'bearer' })
        .expect(202);
      await client.waitFor(runEvent('job.succeeded', { runId: report.body.runId }));
      await request(server.url).post('/api/jobs/daily-report/pause').auth(token, { type: 'bearer' }).expect(200);
      await request(server.url).post('/api/jobs/daily-report/resume').auth(token, { type: 'bearer' }).expect(200);
      await client.waitFor((event) => event.type === 'job.resumed');
      for (const event of client.events) {
        const payloads = payloadsOf(asyncApi.operations[`${event.topic}Events`].messages);
        problems.push(...fitsOne(event, payloads, `event ${event.id} ${event.type}`));
      }
      client.close();

      const ahead = await TestClient.connect(server.url, { auth: { token, lastEventId: 1_000_000 } });
      const resyncAck = await ahead.emit('subscribe', { topics: ['jobs'] });
      expect(ahead.resyncs).toHaveLength(1);
      problems.push(...fitsOne(resyncAck, ackPayloads('subscribe'), 'resync ack'));
      problems.push(...fitsOne(ahead.resyncs[0], payloadsOf(asyncApi.operations.resync.messages), 'resync'));
      ahead.close();

      const badResumePoint = await TestClient.connect(server.url, { auth: { token, lastEventId: 'x' } });
      await eventually(
        () => Promise.resolve(badResumePoint.exceptions.length),
        (count) => count > 0,
      );
      problems.push(
        ...fitsOne(badResumePoint.exceptions[0], payloadsOf(asyncApi.operations.exception.messages), 'exception'),
      );
      badResumePoint.close();

      expect(client.events.length).toBeGreaterThan(5);
      expect(problems).toEqual([]);
    });
  });
});
