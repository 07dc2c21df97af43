import { Controller, Get } from '@nestjs/common';
import { HealthService } from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when the database answers, 503 otherwise: the container platform's readiness and liveness probe. */
  @Get()
  check(): Promise<{ status: 'ok' }> {
    return this.health.check();
  }
}
