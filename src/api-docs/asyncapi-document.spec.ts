import { EVENT_TOPICS, TOPICS, type EventType } from '../notifier/events.js';
import { buildAsyncApiDocument } from './asyncapi-document.js';

describe('buildAsyncApiDocument', () => {
  const document = buildAsyncApiDocument({
    SubscriptionDto: { type: 'object', properties: { topics: { type: 'array' } } },
    ResumeDto: { type: 'object', properties: { lastEventId: { type: 'integer' } } },
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a walk through untyped JSON
  type Json = any;
  const at = (ref: string): Json =>
    ref
      .slice(2)
      .split('/')
      .reduce((node: Json, key) => node?.[key], document);

  it('describes every event type of the event map, once, under the receive operation of its topic', () => {
    for (const type of Object.keys(EVENT_TOPICS) as EventType[]) {
      const operation = document.operations[`${EVENT_TOPICS[type]}Events`] as { messages: { $ref: string }[] };
      const messages: Json[] = operation.messages.map(({ $ref }) => at(at($ref).$ref));
      const described = messages.filter((message) => message.title === type);

      expect({ type, count: described.length }).toEqual({ type, count: 1 });
      expect(at(described[0].payload.$ref).properties.type.enum).toEqual([type]);
    }
    const eventOperations = TOPICS.map((topic) => document.operations[`${topic}Events`] as { messages: unknown[] });
    expect(eventOperations.reduce((sum, operation) => sum + operation.messages.length, 0)).toBe(
      Object.keys(EVENT_TOPICS).length,
    );
  });

  it("sends each operation's messages on its channel, and each reference resolves", () => {
    for (const [name, operation] of Object.entries(document.operations)) {
      const channel = operation.channel as { $ref: string };
      const messages = operation.messages as { $ref: string }[];
      for (const { $ref } of messages)
        expect({ name, $ref, inChannel: $ref.startsWith(`${channel.$ref}/messages/`) }).toEqual({
          name,
          $ref,
          inChannel: true,
        });
    }
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]);
    expect(refs.filter((ref) => at(ref) === undefined)).toEqual([]);
  });

  it('answers subscribe, unsubscribe and resume with an acknowledgement or the error acknowledgement', () => {
    for (const name of ['subscribe', 'unsubscribe', 'resume']) {
      const { reply } = document.operations[name] as { reply: { messages: { $ref: string }[] } };
      const payloads = reply.messages.map(({ $ref }) => at(at($ref).$ref).payload.$ref);

      expect(payloads).toEqual(['#/components/schemas/SubscriptionAck', '#/components/schemas/ErrorAck']);
    }
  });
});
