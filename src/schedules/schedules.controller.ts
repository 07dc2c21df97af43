import { Controller, Get, Query } from '@nestjs/common';
import { SchedulePreviewQueryDto, type SchedulePreview } from './schedule-preview.dto.js';
import { SchedulesService } from './schedules.service.js';
import { Access } from '../auth/access.decorator.js';
import { CountsAsWrite } from '../limits/counts-as-write.decorator.js';

@Controller('api/schedules')
@Access('viewer')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get('preview')
  @CountsAsWrite()
  preview(@Query() query: SchedulePreviewQueryDto): SchedulePreview {
    return this.schedules.preview(query);
  }
}
