import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseModule } from '../database/database.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { ReadinessService } from './readiness.service.js';

@Module({
  // ReadinessService logs readiness once per change; terminus would log every failing probe.
  imports: [DatabaseModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [HealthService, ReadinessService],
})
export class HealthModule {}
