import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiStorageUnavailable, ApiValidationError } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import { ListQueryDto } from '../common/list-query.dto.js';
import type { Run } from '../database/runs.repository.js';
import { JobsService, type JobView } from './jobs.service.js';
import { RunsService } from './runs.service.js';
import { Access } from '../auth/access.decorator.js';

const ApiJobName = () => ApiParam({ name: 'name', description: "The job's name, as its @Job declares it." });
const ApiUnknownJob = () => ApiError(404, 'No job has that name.');

@ApiTags('jobs')
@Controller('api/jobs')
@Access('viewer')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly runs: RunsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every job, with its schedule, next fire times, pause state and last run' })
  @ApiOkResponse({ description: 'The jobs.', schema: { type: 'array', items: ref('JobView') } })
  @ApiStorageUnavailable()
  list(): Promise<JobView[]> {
    return this.jobs.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'One job' })
  @ApiJobName()
  @ApiOkResponse({ description: 'The job.', schema: ref('JobView') })
  @ApiUnknownJob()
  @ApiStorageUnavailable()
  get(@Param('name') name: string): Promise<JobView> {
    return this.jobs.get(name);
  }

  /** 202: the run goes on in the background; follow it on topic `jobs` or at `/api/runs/:runId`. */
  @Post(':name/trigger')
  @ApiOperation({
    summary: 'Run a job now',
    description:
      'Starts a run (trigger manual), also of a paused job. It goes on in the background: follow it on topic `jobs` or at GET /api/runs/{runId}.',
  })
  @ApiJobName()
  @ApiAcceptedResponse({ description: 'The run started, or queued (overlap: queue).', schema: ref('TriggerAccepted') })
  @ApiUnknownJob()
  @ApiError(
    409,
    'The job is busy (a run is in progress, or waiting for its retry): runId is that run. The request is recorded as a skipped run.',
    'ConflictBody',
  )
  @ApiError(503, 'jobpulse is shutting down and starts no new runs.')
  @ApiStorageUnavailable()
  @Access('operator')
  @HttpCode(HttpStatus.ACCEPTED)
  async trigger(@Param('name') name: string): Promise<{ runId: string; job: string; status: string }> {
    const run = await this.runs.trigger(name);
    return { runId: run.id, job: run.job, status: run.status };
  }

  /** The job stops firing on schedule (its ticks leave no runs) until resumed; stored, so it survives a restart. */
  @Post(':name/pause')
  @ApiOperation({
    summary: 'Pause a job',
    description:
      'The job stops firing on schedule until resumed; stored, so it holds on every replica and across restarts.',
  })
  @ApiJobName()
  @ApiOkResponse({ description: 'The job, paused.', schema: ref('JobView') })
  @ApiUnknownJob()
  @ApiStorageUnavailable()
  @Access('operator')
  @HttpCode(HttpStatus.OK)
  pause(@Param('name') name: string): Promise<JobView> {
    return this.jobs.setPaused(name, true);
  }

  @Post(':name/resume')
  @ApiOperation({
    summary: 'Resume a paused job',
    description: 'The job fires on schedule again, from its next fire time.',
  })
  @ApiJobName()
  @ApiOkResponse({ description: 'The job, not paused.', schema: ref('JobView') })
  @ApiUnknownJob()
  @ApiStorageUnavailable()
  @Access('operator')
  @HttpCode(HttpStatus.OK)
  resume(@Param('name') name: string): Promise<JobView> {
    return this.jobs.setPaused(name, false);
  }

  @Get(':name/runs')
  @ApiOperation({ summary: "A job's runs, newest first (each attempt is a run)" })
  @ApiJobName()
  @ApiOkResponse({ description: 'The runs.', schema: { type: 'array', items: ref('Run') } })
  @ApiValidationError()
  @ApiUnknownJob()
  @ApiStorageUnavailable()
  listRuns(@Param('name') name: string, @Query() query: ListQueryDto): Promise<Run[]> {
    return this.runs.listOf(name, query.toPage());
  }
}
