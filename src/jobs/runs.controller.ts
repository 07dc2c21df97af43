import { Controller, Get, HttpCode, HttpStatus, NotFoundException, Param, Post } from '@nestjs/common';
import { RunsRepository, type Run } from '../database/runs.repository.js';
import { JobsService } from './jobs.service.js';

@Controller('api/runs')
export class RunsController {
  constructor(
    private readonly runs: RunsRepository,
    private readonly jobs: JobsService,
  ) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<Run> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundException(`run "${id}" does not exist`);
    return run;
  }

  /** 202 with the new run, which goes on in the background; 409 unless the run failed, timed out, was interrupted or abandoned. */
  @Post(':id/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  retry(@Param('id') id: string): Promise<Run> {
    return this.jobs.retry(id);
  }
}
