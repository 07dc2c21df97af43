import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Env } from '../config/env.js';

/**
 * `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>` when the token
 * is set, and nothing otherwise. A scraper holds this token, not a user's
 * sign-in, so the route is public to the app's own guard and checked here.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  constructor(private readonly env: Env) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.env.METRICS_TOKEN;
    if (expected === undefined) return true;
    const http = context.switchToHttp();
    const given = bearerTokenOf(http.getRequest<Request>().headers.authorization);
    if (given !== undefined && sameSecret(given, expected)) return true;
    // RFC 6750: the challenge names the scheme, and says when a token was sent but is not the one.
    const challenge = given === undefined ? 'Bearer realm="metrics"' : 'Bearer realm="metrics", error="invalid_token"';
    http.getResponse<Response>().setHeader('WWW-Authenticate', challenge);
    throw new UnauthorizedException('GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
  }
}

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
}

/** Compares in constant time, whatever the lengths: both sides are hashed to the same length first. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
