import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard } from './rate-limit.guard.js';

/**
 * REST rate limits: per client and minute, a budget of reads (`RATE_LIMIT_READS`)
 * and one of writes (`RATE_LIMIT_WRITES`), counted in this replica's memory.
 * Imported after AuthModule, so that its guard runs once the user is known.
 *
 * Not @nestjs/throttler: its CommonJS build require()s the ESM-only @nestjs/common 12,
 * which Node 20 does but Jest cannot before Node 24.9, so no spec could load the app.
 */
@Module({
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class LimitsModule {}
