import { Controller, Get, Param, Query } from '@nestjs/common';
import { ListQueryDto } from '../common/list-query.dto.js';
import type { Report } from '../database/reports.repository.js';
import { ReportsService } from './reports.service.js';
import { Access } from '../auth/access.decorator.js';

@Controller('api/reports')
@Access('viewer')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  list(@Query() query: ListQueryDto): Promise<Report[]> {
    return this.reports.list(query.toPage());
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Report> {
    return this.reports.get(id);
  }
}
