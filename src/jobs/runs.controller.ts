import { Controller, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiStorageUnavailable } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import type { Run } from '../database/runs.repository.js';
import { RunsService } from './runs.service.js';
import { Access } from '../auth/access.decorator.js';

const ApiRunId = () => ApiParam({ name: 'id', description: "The run's id." });
const ApiUnknownRun = () => ApiError(404, 'No run has that id.');

@ApiTags('runs')
@Controller('api/runs')
@Access('viewer')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get(':id')
  @ApiOperation({ summary: 'One run' })
  @ApiRunId()
  @ApiOkResponse({ description: 'The run.', schema: ref('Run') })
  @ApiUnknownRun()
  @ApiStorageUnavailable()
  get(@Param('id') id: string): Promise<Run> {
    return this.runs.get(id);
  }

  /** 202 with the new run, which goes on in the background; 409 unless the run failed, timed out, was interrupted or abandoned. */
  @Post(':id/retry')
  @ApiOperation({
    summary: 'Retry a run by hand',
    description:
      'Runs the job again now, as a new run (trigger retry, retryOf the run), which goes on in the background. Only a failed, timed_out, interrupted or abandoned run can be retried.',
  })
  @ApiRunId()
  @ApiAcceptedResponse({ description: 'The new run.', schema: ref('Run') })
  @ApiUnknownRun()
  @ApiError(
    409,
    'The run is not failed, timed_out, interrupted or abandoned; or the job is busy (runId is the run in progress, and the request is recorded as a skipped run).',
    'ConflictBody',
  )
  @ApiError(503, 'jobpulse is shutting down and starts no new runs.')
  @ApiStorageUnavailable()
  @Access('operator')
  @HttpCode(HttpStatus.ACCEPTED)
  retry(@Param('id') id: string): Promise<Run> {
    return this.runs.retry(id);
  }
}
