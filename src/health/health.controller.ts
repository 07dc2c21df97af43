import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { HealthService } from './health.service.js';
import { ReadinessService } from './readiness.service.js';
import { Access } from '../auth/access.decorator.js';

/** Probes need no token: the orchestrator has none. */
@Controller('health')
@Access('public')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly readiness: ReadinessService,
  ) {}

  /** 200 when the database answers, 503 otherwise: kept for probes set up before /health/live and /health/ready. */
  @Get()
  check(): Promise<{ status: 'ok' }> {
    return this.health.check();
  }

  /**
   * 200 while the process answers HTTP, through a database outage and a
   * shutdown's drain alike: restarting the process would mend neither.
   */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 while this process should receive traffic; 503 naming each failing check otherwise, from SIGTERM on. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.readiness.check();
  }
}
