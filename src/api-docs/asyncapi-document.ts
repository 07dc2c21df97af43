import type { SchemaObject } from '@nestjs/swagger';
import { TOKEN_EXPIRED } from '../gateway/socket-admission.js';
import { EVENT_TOPICS, TOPICS, type EventType } from '../notifier/events.js';
import { EVENT_DOCS, EVENT_TYPES, eventSchemaName, eventSchemas } from './event-docs.js';
import { OPENAPI_PATH, SERVICE_VERSION } from './openapi-document.js';
import { referencedSchemas } from './referenced-schemas.js';
import { ref, SHARED_SCHEMAS } from './schemas.js';

/** The DTOs of the client's messages, as @nestjs/swagger reads their @ApiProperty decorators. */
export interface SocketDtoSchemas {
  SubscriptionDto: SchemaObject;
  ResumeDto: SchemaObject;
}

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description: string };
  defaultContentType: string;
  servers: Record<string, unknown>;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> } & Record<string, unknown>>;
  operations: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, SchemaObject>;
    messages: Record<string, Record<string, unknown>>;
    securitySchemes: Record<string, unknown>;
  };
}

/** The one channel: socket.io's default namespace, where every message below is sent. */
const CHANNEL = 'socket';
const channelRef = { $ref: `#/channels/${CHANNEL}` };
const messageRef = (key: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${key}` });

const DESCRIPTION = `Live events over socket.io 4, on the port and at the path (/socket.io) of the REST API (OpenAPI at ${OPENAPI_PATH}).

**Connecting.** The handshake's \`auth\` is \`{ token, lastEventId }\` (see \`x-handshake\`): the bearer token when AUTH_MODE=jwt (an Authorization: Bearer header works too), and the id of the last event handled, to resume. A handshake needs the viewer role and an origin CORS_ORIGINS allows; a refused one gets \`connect_error\` with \`data\` \`{ code, reason }\`. When the token expires, the server sends \`${TOKEN_EXPIRED}\` and disconnects: reconnect with a fresh token and lastEventId.

**Events.** Subscribe to topics (\`${TOPICS.join('`, `')}\`), again after every reconnect: each event of those topics then comes as the message \`event\`, once, in id order, whichever replica published it.

**Resume and resync.** The resume point is the handshake's \`lastEventId\`, or a \`resume\` message. With one, subscribing first sends the topics' stored events after it, in order, before any live event (the acknowledgement says how many: \`replayed\`); a \`resume\` after subscribing sends the missed events after the live ones already received. When events after the point were pruned (EVENT_RETENTION_HOURS) or the point is newer than any event, the socket gets \`{ type: 'resync', latestEventId }\` on \`event\` instead, and the acknowledgement \`resync: true\`: reload over REST, take latestEventId as the last id; the socket stays subscribed and live events follow. A bad handshake lastEventId is reported as an \`exception\`; the socket stays connected without a resume point.

**Acknowledgements.** Every client message is answered through its socket.io acknowledgement (the callback of \`emit\`, or \`emitWithAck\`): \`{ ok: true, topics, … }\`, or \`{ ok: false, error }\` when it fails validation, or when stored events cannot be read (then send it again). Without a callback the error comes as the message \`exception\`.`;

/** socket.io's protocol as AsyncAPI 3.0: the client's messages with their acknowledgements, and every event by topic. */
export function buildAsyncApiDocument(dtos: SocketDtoSchemas): AsyncApiDocument {
  const messages: Record<string, Record<string, unknown>> = {
    subscribe: {
      name: 'subscribe',
      title: 'subscribe',
      summary: 'Subscribe to topics; with a resume point, their missed events are replayed first.',
      payload: ref('SubscriptionDto'),
    },
    unsubscribe: {
      name: 'unsubscribe',
      title: 'unsubscribe',
      summary: 'Stop receiving the events of topics.',
      payload: ref('SubscriptionDto'),
    },
    resume: {
      name: 'resume',
      title: 'resume',
      summary: 'Set the resume point: the subscribed topics get their stored events after it.',
      payload: ref('ResumeDto'),
    },
    subscriptionAck: {
      title: 'acknowledgement',
      summary: 'The acknowledgement of subscribe, unsubscribe or resume that succeeded.',
      payload: ref('SubscriptionAck'),
    },
    errorAck: {
      title: 'error acknowledgement',
      summary: 'The acknowledgement of a message that failed; the connection stays open.',
      payload: ref('ErrorAck'),
    },
    ...Object.fromEntries(EVENT_TYPES.map((type) => [type, eventMessage(type)])),
    resync: {
      name: 'event',
      title: 'resync',
      summary: 'Instead of a replay that cannot be served: reload over REST.',
      payload: ref('ResyncMessage'),
    },
    exception: {
      name: 'exception',
      title: 'exception',
      summary: 'A failed message sent without an acknowledgement callback, or a bad handshake lastEventId.',
      payload: ref('ErrorAck'),
    },
    tokenExpired: {
      name: TOKEN_EXPIRED,
      title: TOKEN_EXPIRED,
      summary: 'The token expired; the server disconnects right after.',
      payload: ref('TokenExpired'),
    },
  };
  const acknowledged = (summary: string, message: string) => ({
    action: 'send',
    channel: channelRef,
    summary,
    messages: [messageRef(message)],
    reply: { channel: channelRef, messages: [messageRef('subscriptionAck'), messageRef('errorAck')] },
  });
  const received = (summary: string, keys: string[]) => ({
    action: 'receive',
    channel: channelRef,
    summary,
    messages: keys.map(messageRef),
  });
  const operations = {
    subscribe: acknowledged('Subscribe to topics.', 'subscribe'),
    unsubscribe: acknowledged('Unsubscribe from topics.', 'unsubscribe'),
    resume: acknowledged('Resume from an event id.', 'resume'),
    ...Object.fromEntries(
      TOPICS.map((topic) => [
        `${topic}Events`,
        received(
          `The events of topic ${topic}, as the message \`event\`, once subscribed.`,
          EVENT_TYPES.filter((type) => EVENT_TOPICS[type] === topic),
        ),
      ]),
    ),
    resync: received('A resync, on the `event` channel, when a resume point cannot be served.', ['resync']),
    exception: received('Errors of messages sent without an acknowledgement callback.', ['exception']),
    tokenExpired: received('The token expired.', ['tokenExpired']),
  };
  const channels = {
    [CHANNEL]: {
      address: '/',
      title: "socket.io's default namespace",
      description: 'Every message is sent on the default namespace; its socket.io event name is the message `name`.',
      messages: Object.fromEntries(Object.keys(messages).map((key) => [key, { $ref: `#/components/messages/${key}` }])),
      'x-handshake': { auth: ref('HandshakeAuth'), connectErrorData: ref('HandshakeRefusal') },
    },
  };
  const pool = { ...SHARED_SCHEMAS, ...eventSchemas(), ...dtos };
  return {
    asyncapi: '3.0.0',
    info: { title: 'jobpulse live events', version: SERVICE_VERSION, description: DESCRIPTION },
    defaultContentType: 'application/json',
    servers: {
      jobpulse: {
        host: '{host}',
        pathname: '/socket.io',
        protocol: 'ws',
        description: 'socket.io 4 (Engine.IO 4) over WebSocket, or HTTP long-polling upgraded to it.',
        variables: { host: { default: 'localhost:3000', description: 'Host and port of the REST API.' } },
        security: [{ $ref: '#/components/securitySchemes/bearer' }],
      },
    },
    channels,
    operations,
    components: {
      schemas: referencedSchemas([messages, channels], pool),
      messages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "Sent as the handshake's auth.token (or an Authorization: Bearer header); the viewer role is needed.",
        },
      },
    },
  };
}

function eventMessage(type: EventType): Record<string, unknown> {
  return {
    name: 'event',
    title: type,
    summary: EVENT_DOCS[type].when,
    tags: [{ name: EVENT_TOPICS[type] }],
    payload: ref(eventSchemaName(type)),
  };
}
