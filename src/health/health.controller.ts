import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { ApiError } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import { HealthService } from './health.service.js';
import { ReadinessService } from './readiness.service.js';
import { Access } from '../auth/access.decorator.js';

/** Probes need no token: the orchestrator has none. */
@ApiTags('health')
@Controller('health')
@Access('public')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly readiness: ReadinessService,
  ) {}

  /** 200 when the database answers, 503 otherwise: kept for probes set up before /health/live and /health/ready. */
  @Get()
  @ApiOperation({
    summary: 'Whether the database answers (kept for probes set up before /health/live and /health/ready)',
  })
  @ApiOkResponse({ description: 'The database answers.', schema: ref('HealthStatus') })
  @ApiError(503, 'The database does not answer; the message says why.')
  check(): Promise<{ status: 'ok' }> {
    return this.health.check();
  }

  /**
   * 200 while the process answers HTTP, through a database outage and a
   * shutdown's drain alike: restarting the process would mend neither.
   */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers HTTP (through a database outage and a shutdown alike)' })
  @ApiOkResponse({ description: 'Alive.', schema: ref('HealthStatus') })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 while this process should receive traffic; 503 naming each failing check otherwise, from SIGTERM on. */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: whether this process should receive traffic',
    description:
      'Checks that no shutdown has begun, the database answers, every migration is applied, and on SQLite that the file is still the one opened, with room on its disk.',
  })
  @ApiOkResponse({ description: 'Ready.', schema: ref('HealthCheckResult') })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: each failing check is named.',
    schema: ref('HealthCheckResult'),
  })
  // Its own swagger documentation off: this one names the checks.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  ready(): Promise<HealthCheckResult> {
    return this.readiness.check();
  }
}
