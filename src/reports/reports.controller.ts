import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiStorageUnavailable, ApiValidationError } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import { ListQueryDto } from '../common/list-query.dto.js';
import type { Report } from '../database/reports.repository.js';
import { ReportsService } from './reports.service.js';
import { Access } from '../auth/access.decorator.js';

@ApiTags('reports')
@Controller('api/reports')
@Access('viewer')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  @ApiOperation({ summary: 'Reports with their content, newest first' })
  @ApiOkResponse({ description: 'The reports.', schema: { type: 'array', items: ref('Report') } })
  @ApiValidationError()
  @ApiStorageUnavailable()
  list(@Query() query: ListQueryDto): Promise<Report[]> {
    return this.reports.list(query.toPage());
  }

  @Get(':id')
  @ApiOperation({ summary: 'One report' })
  @ApiParam({ name: 'id', description: "The report's id." })
  @ApiOkResponse({ description: 'The report.', schema: ref('Report') })
  @ApiError(404, 'No report has that id.')
  @ApiStorageUnavailable()
  get(@Param('id') id: string): Promise<Report> {
    return this.reports.get(id);
  }
}
