import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { RunsRepository, type Run } from '../database/runs.repository.js';

@Controller('api/runs')
export class RunsController {
  constructor(private readonly runs: RunsRepository) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<Run> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundException(`run "${id}" does not exist`);
    return run;
  }
}
