import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { Env } from '../config/env.js';
import { rateLimitClientOf } from './rate-limit-client.js';
import { rateLimitTierOf } from './rate-limit-tier.js';
import { SlidingWindow } from './sliding-window.js';

/** `RATE_LIMIT_READS` and `RATE_LIMIT_WRITES` are per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Every REST route but the public ones: counts the request against its client's
 * budget of reads or of writes (one of them, never both), and answers 429 once it is
 * spent. Runs after the AuthGuard, which sets the user it counts by.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly window = new SlidingWindow(RATE_LIMIT_WINDOW_MS);

  constructor(
    private readonly reflector: Reflector,
    @Inject(Env) private readonly env: Env,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    // Socket.io messages have budgets of their own (SOCKET_MESSAGES_PER_SECOND).
    if (context.getType() !== 'http') return true;
    const tier = rateLimitTierOf(this.reflector, context);
    if (tier === 'exempt') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<Response>();
    const limit = tier === 'writes' ? this.env.RATE_LIMIT_WRITES : this.env.RATE_LIMIT_READS;
    const verdict = this.window.take(`${tier} ${rateLimitClientOf(request)}`, limit, this.clock.now().getTime());
    response.setHeader('X-RateLimit-Limit', limit);
    response.setHeader('X-RateLimit-Remaining', verdict.remaining);
    response.setHeader('X-RateLimit-Reset', seconds(verdict.resetMs));
    if (verdict.allowed) return true;
    const retryAfter = seconds(verdict.retryAfterMs);
    response.setHeader('Retry-After', retryAfter);
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `too many ${tier}: ${limit} per minute; retry in ${retryAfter} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** Whole seconds, rounded up: retrying after `Retry-After` seconds never arrives early. */
function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
