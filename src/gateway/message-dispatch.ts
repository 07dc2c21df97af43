import type { LoggerService, WsMessageHandler } from '@nestjs/common';
import { fromEvent, isObservable, takeUntil } from 'rxjs';
import type { Socket } from 'socket.io';

/** A message's payload and acknowledgement, as IoAdapter's `mapPayload` splits them. */
export type PayloadSplitter = (payload: unknown) => { data: unknown; ack?: unknown };

/** A handler's answer that is sent as an event of its own rather than as the acknowledgement. */
interface EventResponse {
  event: string;
  data?: unknown;
}

/**
 * Runs a socket's `@SubscribeMessage` handlers from plain socket.io listeners,
 * as Nest's IoAdapter does but without its RxJS pipeline per socket and
 * handler (about 14 kB per idle socket). Every value a handler gives
 * (returned, resolved, or each one its Observable emits) that is not null
 * is sent back: as event `event` with `data` when it names one, else through
 * the acknowledgement unless the handler acknowledges by itself. A handler
 * that throws past its exception filter is logged. Once the socket has
 * disconnected, nothing is handled or answered.
 */
export class MessageDispatch {
  constructor(
    private readonly split: PayloadSplitter,
    private readonly logger: LoggerService,
  ) {}

  bind(socket: Socket, handlers: readonly WsMessageHandler[]): void {
    for (const handler of handlers) {
      socket.on(handler.message, (...args: unknown[]) => void this.receive(socket, handler, args));
    }
  }

  private async receive(socket: Socket, handler: WsMessageHandler, args: unknown[]): Promise<void> {
    if (!socket.connected) return;
    // The shape rxjs's fromEvent gives Nest's splitter: one argument alone, several as an array.
    const { data, ack } = this.split(args.length > 1 ? args : args[0]);
    try {
      const result: unknown = await handler.callback(data, ack);
      if (!isObservable(result)) {
        this.answer(socket, handler, result, ack);
        return;
      }
      result.pipe(takeUntil(fromEvent(socket, 'disconnect'))).subscribe({
        next: (value) => this.answer(socket, handler, value, ack),
        error: (error: unknown) => {
          this.logger.error(error);
        },
      });
    } catch (error) {
      this.logger.error(error);
    }
  }

  private answer(socket: Socket, handler: WsMessageHandler, response: unknown, ack: unknown): void {
    if (response === null || response === undefined || !socket.connected) return;
    if ((response as Partial<EventResponse>).event) {
      const { event, data } = response as EventResponse;
      socket.emit(event, data);
    } else if (!handler.isAckHandledManually && typeof ack === 'function')
      (ack as (response: unknown) => void)(response);
  }
}
