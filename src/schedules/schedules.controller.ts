import { Controller, Get, Query } from '@nestjs/common';
import { SchedulePreviewQueryDto, type SchedulePreview } from './schedule-preview.dto.js';
import { SchedulesService } from './schedules.service.js';

@Controller('api/schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get('preview')
  preview(@Query() query: SchedulePreviewQueryDto): SchedulePreview {
    return this.schedules.preview(query);
  }
}
