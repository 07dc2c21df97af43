import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import { SchedulePreviewQueryDto, type SchedulePreview } from './schedule-preview.dto.js';
import { SchedulesService } from './schedules.service.js';
import { Access } from '../auth/access.decorator.js';
import { CountsAsWrite } from '../limits/counts-as-write.decorator.js';

@ApiTags('schedules')
@Controller('api/schedules')
@Access('viewer')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get('preview')
  @ApiOperation({
    summary: 'The next fire times of any cron expression',
    description:
      'From the evaluator the jobs use. The search is bounded: when it stops before count fire times, searchedUntil says how far it got. Counts against RATE_LIMIT_WRITES.',
  })
  @ApiOkResponse({ description: 'The fire times.', schema: ref('SchedulePreview') })
  @ApiError(
    400,
    'An invalid expression (the message names the field and the token), time zone, from or count, or an unknown parameter.',
    'ValidationErrorBody',
  )
  @CountsAsWrite()
  preview(@Query() query: SchedulePreviewQueryDto): SchedulePreview {
    return this.schedules.preview(query);
  }
}
