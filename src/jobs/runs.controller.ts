import { Controller, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import type { Run } from '../database/runs.repository.js';
import { RunsService } from './runs.service.js';
import { Access } from '../auth/access.decorator.js';

@Controller('api/runs')
@Access('viewer')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get(':id')
  get(@Param('id') id: string): Promise<Run> {
    return this.runs.get(id);
  }

  /** 202 with the new run, which goes on in the background; 409 unless the run failed, timed out, was interrupted or abandoned. */
  @Post(':id/retry')
  @Access('operator')
  @HttpCode(HttpStatus.ACCEPTED)
  retry(@Param('id') id: string): Promise<Run> {
    return this.runs.retry(id);
  }
}
