import { DynamicModule, Module, Type } from '@nestjs/common';
import { OperationsReportGenerator } from './operations-report.generator.js';
import { REPORT_GENERATOR, type IReportGenerator } from './report-generator.js';
import { ReportsController } from './reports.controller.js';
import { ReportsService } from './reports.service.js';

export interface ReportsModuleOptions {
  /** The class behind `REPORT_GENERATOR`; defaults to the daily operations report. */
  generator?: Type<IReportGenerator>;
}

@Module({})
export class ReportsModule {
  static forRoot(options: ReportsModuleOptions = {}): DynamicModule {
    return {
      module: ReportsModule,
      global: true,
      controllers: [ReportsController],
      providers: [
        ReportsService,
        { provide: REPORT_GENERATOR, useClass: options.generator ?? OperationsReportGenerator },
      ],
      exports: [ReportsService, REPORT_GENERATOR],
    };
  }
}
