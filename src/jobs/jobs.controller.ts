import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ListQueryDto } from '../common/list-query.dto.js';
import type { Run } from '../database/runs.repository.js';
import { JobsService, type JobView } from './jobs.service.js';
import { RunsService } from './runs.service.js';
import { Access } from '../auth/access.decorator.js';

@Controller('api/jobs')
@Access('viewer')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly runs: RunsService,
  ) {}

  @Get()
  list(): Promise<JobView[]> {
    return this.jobs.list();
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<JobView> {
    return this.jobs.get(name);
  }

  /** 202: the run goes on in the background; follow it on topic `jobs` or at `/api/runs/:runId`. */
  @Post(':name/trigger')
  @Access('operator')
  @HttpCode(HttpStatus.ACCEPTED)
  async trigger(@Param('name') name: string): Promise<{ runId: string; job: string; status: string }> {
    const run = await this.runs.trigger(name);
    return { runId: run.id, job: run.job, status: run.status };
  }

  /** The job stops firing on schedule (its ticks leave no runs) until resumed; stored, so it survives a restart. */
  @Post(':name/pause')
  @Access('operator')
  @HttpCode(HttpStatus.OK)
  pause(@Param('name') name: string): Promise<JobView> {
    return this.jobs.setPaused(name, true);
  }

  @Post(':name/resume')
  @Access('operator')
  @HttpCode(HttpStatus.OK)
  resume(@Param('name') name: string): Promise<JobView> {
    return this.jobs.setPaused(name, false);
  }

  @Get(':name/runs')
  listRuns(@Param('name') name: string, @Query() query: ListQueryDto): Promise<Run[]> {
    return this.runs.listOf(name, query.toPage());
  }
}
