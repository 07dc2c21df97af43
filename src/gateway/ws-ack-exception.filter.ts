import { ArgumentsHost, Catch, HttpException, Logger, WsExceptionFilter } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { Socket } from 'socket.io';

export interface ErrorAck {
  ok: false;
  error: string;
}

/**
 * Answers a failed message through its acknowledgement (`{ ok: false, error }`),
 * or as an `exception` event when the client sent none; the connection stays open.
 */
@Catch()
export class WsAckExceptionFilter implements WsExceptionFilter {
  private readonly logger = new Logger(WsAckExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply: ErrorAck = { ok: false, error: this.describe(exception) };
    const ack = host.getArgs().find((arg): arg is (reply: ErrorAck) => void => typeof arg === 'function');
    if (ack) ack(reply);
    else host.switchToWs().getClient<Socket>().emit('exception', reply);
  }

  private describe(exception: unknown): string {
    if (exception instanceof WsException) {
      const error = exception.getError();
      return typeof error === 'string' ? error : JSON.stringify(error);
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      if (Array.isArray(message)) return message.join('; ');
      return typeof message === 'string' ? message : exception.message;
    }
    this.logger.error({
      msg: 'websocket handler failed',
      error: (exception as Error)?.message,
      stack: (exception as Error)?.stack,
    });
    return 'internal error';
  }
}
