import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { ExtendedError, Socket } from 'socket.io';
import type { Principal } from '../auth/access.decorator.js';
import { ANONYMOUS, Authenticator, bearerTokenOf } from '../auth/authenticator.js';
import { OriginPolicy } from '../auth/origin-policy.js';
import { InvalidTokenError } from '../auth/token-verifier.js';
import { Env, MAX_TIMER_MS } from '../config/env.js';

/** `connect_error`'s `data`: what the client should do about a refused handshake. */
export interface HandshakeRefusal {
  /** `unauthorized`: sign in again; `forbidden`: the user lacks the viewer role; `too_many_sockets`; `unavailable`: retry later. */
  code: 'unauthorized' | 'forbidden' | 'too_many_sockets' | 'unavailable';
  reason: string;
}

/** Sent just before the server disconnects a socket whose token expired: reconnect with a fresh token and `lastEventId`. */
export const TOKEN_EXPIRED = 'token_expired';

/**
 * Who may open a socket: a handshake from a site CORS_ORIGINS does not list
 * is refused before a socket exists (cross-site WebSocket hijacking); then
 * the token in `auth.token` (or an `Authorization` header) is verified, the
 * viewer role required, and at most SOCKETS_PER_USER sockets kept per user.
 * A socket is disconnected when its token expires.
 */
@Injectable()
export class SocketAdmission {
  private readonly logger = new Logger('SocketAdmission');
  private readonly socketsByUser = new Map<string, number>();

  constructor(
    private readonly env: Env,
    private readonly authenticator: Authenticator,
    private readonly origins: OriginPolicy,
  ) {}

  /** socket.io's `allowRequest`, for every HTTP request of a handshake (polling and WebSocket upgrade alike). */
  readonly allowRequest = (request: IncomingMessage, callback: (error: string | null, success: boolean) => void) => {
    const allowed = this.origins.allows(request.headers.origin, request.headers.host);
    if (!allowed) this.logger.warn({ msg: 'handshake refused: origin not allowed', origin: request.headers.origin });
    callback(allowed ? null : `origin ${request.headers.origin} is not allowed (CORS_ORIGINS)`, allowed);
  };

  /** Middleware of the namespace: runs once per socket, before it connects. */
  readonly admit = async (socket: Socket, next: (error?: ExtendedError) => void): Promise<void> => {
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticate(tokenOf(socket));
    } catch (error) {
      return next(
        error instanceof InvalidTokenError
          ? refusal('unauthorized', error.reason)
          : refusal('unavailable', (error as Error).message),
      );
    }
    if (!principal.roles.has('viewer'))
      return next(refusal('forbidden', 'this needs the viewer role, which the token does not grant'));
    const user = principal === ANONYMOUS ? `address ${socket.handshake.address}` : principal.sub;
    const open = this.socketsByUser.get(user) ?? 0;
    if (open >= this.env.SOCKETS_PER_USER)
      return next(
        refusal('too_many_sockets', `at most ${this.env.SOCKETS_PER_USER} sockets per user (SOCKETS_PER_USER)`),
      );
    this.socketsByUser.set(user, open + 1);
    socket.once('disconnect', () => {
      const left = (this.socketsByUser.get(user) ?? 1) - 1;
      if (left > 0) this.socketsByUser.set(user, left);
      else this.socketsByUser.delete(user);
    });
    if (principal.expiresAt !== undefined) this.expireWithToken(socket, principal.sub, principal.expiresAt);
    next();
  };

  /** Disconnects at the token's expiry, plus the clock tolerance the token was accepted with. */
  private expireWithToken(socket: Socket, sub: string, tokenExpiresAt: number): void {
    const expiresAt = tokenExpiresAt + this.env.AUTH_CLOCK_TOLERANCE;
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const left = expiresAt - Date.now();
      // Chained: Node cuts a longer timer to 1 ms.
      if (left > 0) return void (timer = setTimeout(check, Math.min(left, MAX_TIMER_MS)));
      this.logger.debug({ msg: 'socket disconnected: token expired', socketId: socket.id, sub });
      // Not disconnect(true): the event must reach the client before the connection closes.
      socket.emit(TOKEN_EXPIRED, { error: 'the token has expired' });
      socket.disconnect();
    };
    check();
    socket.once('disconnect', () => clearTimeout(timer));
  }
}

/** Browsers send it in `auth`; other clients may send an `Authorization` header instead. */
function tokenOf(socket: Socket): string | undefined {
  const token: unknown = socket.handshake.auth?.token;
  return typeof token === 'string' ? token : bearerTokenOf(socket.handshake.headers.authorization);
}

function refusal(code: HandshakeRefusal['code'], reason: string): ExtendedError {
  const error: ExtendedError = new Error(reason);
  error.data = { code, reason } satisfies HandshakeRefusal;
  return error;
}
