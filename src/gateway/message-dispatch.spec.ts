import { jest } from '@jest/globals';
import type { LoggerService, WsMessageHandler } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { EventEmitter } from 'node:events';
import { of, Subject } from 'rxjs';
import type { Socket } from 'socket.io';
import { deferred } from '../../test/support/deferred.js';
import { MessageDispatch } from './message-dispatch.js';

/** What the dispatch uses of a socket.io socket: its listeners, `emit` and `connected`. */
class FakeSocket extends EventEmitter {
  connected = true;

  disconnect(): void {
    this.connected = false;
    this.emit('disconnect', 'client namespace disconnect');
  }
}

/** Everything queued so far has run: answers are sent a few promise turns after the message. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** `answer` stands for the handler method; Nest's callback around it is async, as here. */
function setUp(answer: (data: unknown) => unknown, isAckHandledManually = false) {
  const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() } satisfies LoggerService;
  const adapter = new IoAdapter();
  const dispatch = new MessageDispatch((payload) => adapter.mapPayload(payload), logger);
  const socket = new FakeSocket();
  const handler = jest.fn<WsMessageHandler['callback']>((data: unknown) => Promise.resolve(answer(data)));
  dispatch.bind(socket as unknown as Socket, [{ message: 'subscribe', callback: handler, isAckHandledManually }]);
  /** Sends `subscribe` with `args` and an acknowledgement; resolves with the first answer. */
  const send = (...args: unknown[]) => {
    const ack = jest.fn();
    const answered = new Promise((resolve) => ack.mockImplementation(resolve));
    socket.emit('subscribe', ...args, ack);
    return { ack, answered };
  };
  return { socket, handler, logger, send };
}

describe('MessageDispatch', () => {
  it('gives the handler the payload and the acknowledgement, and acknowledges with what it returns', async () => {
    const { handler, send } = setUp((body) => ({ ok: true, topics: (body as { topics: string[] }).topics }));

    const { ack, answered } = send({ topics: ['jobs'] });

    expect(await answered).toEqual({ ok: true, topics: ['jobs'] });
    expect(handler).toHaveBeenCalledWith({ topics: ['jobs'] }, ack);
  });

  it('gives several arguments as one array, as Nest does', async () => {
    const { handler, send } = setUp(() => 'ok');

    await send('a', 'b').answered;

    expect(handler.mock.calls[0][0]).toEqual(['a', 'b']);
  });

  it('acknowledges with what a promise resolves to', async () => {
    const { send } = setUp(() => Promise.resolve({ ok: true }));

    expect(await send({}).answered).toEqual({ ok: true });
  });

  it('answers with every value an Observable emits', async () => {
    const { send } = setUp(() => of(1, 2));

    const { ack } = send({});
    await settled();

    expect(ack.mock.calls).toEqual([[1], [2]]);
  });

  it('sends `{ event, data }` as that event instead of acknowledging', async () => {
    const { socket, send } = setUp(() => ({ event: 'progress', data: { done: 1 } }));
    const progress = new Promise((resolve) => socket.once('progress', resolve));

    const { ack } = send({});

    expect(await progress).toEqual({ done: 1 });
    expect(ack).not.toHaveBeenCalled();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
  ])('does not acknowledge %s', async (_, value) => {
    const { send } = setUp(() => value);

    const { ack } = send({});
    await settled();

    expect(ack).not.toHaveBeenCalled();
  });

  it('leaves the acknowledgement to a handler that acknowledges by itself', async () => {
    const { send } = setUp(() => 'answer', true);

    const { ack } = send({});
    await settled();

    expect(ack).not.toHaveBeenCalled();
  });

  it('logs a handler that fails past its exception filter, and goes on serving the socket', async () => {
    const failure = new Error('filter rethrew');
    const { handler, logger, send } = setUp(() => 'ok');
    handler.mockRejectedValueOnce(failure);

    send({});
    await settled();

    expect(logger.error).toHaveBeenCalledWith(failure);
    expect(await send({}).answered).toBe('ok');
  });

  it('ignores messages once the socket has disconnected', async () => {
    const { socket, handler, send } = setUp(() => 'ok');
    socket.disconnect();

    send({});
    await settled();

    expect(handler).not.toHaveBeenCalled();
  });

  it('does not answer a message whose socket disconnected while it was handled', async () => {
    const result = deferred<string>();
    const { socket, send } = setUp(() => result.promise);

    const { ack } = send({});
    socket.disconnect();
    result.resolve('late');
    await settled();

    expect(ack).not.toHaveBeenCalled();
  });

  it('stops following an Observable when its socket disconnects', async () => {
    const updates = new Subject<number>();
    const { socket, send } = setUp(() => updates);
    send({});
    await settled();

    socket.disconnect();

    expect(updates.observed).toBe(false);
    expect(socket.listenerCount('disconnect')).toBe(0);
  });

  it('keeps no listener of its own on a socket for a finished Observable', async () => {
    const { socket, send } = setUp(() => of(1));

    await send({}).answered;

    expect(socket.listenerCount('disconnect')).toBe(0);
  });
});
