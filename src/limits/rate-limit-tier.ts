import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { ACCESS_METADATA, type AccessLevel } from '../auth/access.decorator.js';
import { COUNTS_AS_WRITE_METADATA } from './counts-as-write.decorator.js';

/** Which budget a route's requests count against; `exempt` routes (probes, metrics, API descriptions) have none. */
export type RateLimitTier = 'reads' | 'writes' | 'exempt';

/** Operator routes and costly reads are writes; public routes are exempt; every other route is a read. */
export function tierFor(level: AccessLevel | undefined, countsAsWrite: boolean): RateLimitTier {
  if (level === 'public') return 'exempt';
  return level === 'operator' || countsAsWrite ? 'writes' : 'reads';
}

/** The tier of the route handling `context`: its method's `@Access` and `@CountsAsWrite`, else its class's. */
export function rateLimitTierOf(reflector: Reflector, context: ExecutionContext): RateLimitTier {
  const targets = [context.getHandler(), context.getClass()];
  const level = reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_METADATA, targets);
  const countsAsWrite = reflector.getAllAndOverride<boolean | undefined>(COUNTS_AS_WRITE_METADATA, targets) === true;
  return tierFor(level, countsAsWrite);
}
