import { DynamicModule, Module, Type } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module.js';
import { ClientPresenceModule } from '../gateway/client-presence.module.js';
import { NotifierModule } from '../notifier/notifier.module.js';
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
      // ClientPresenceModule binds CLIENT_PEAK, the one thing the operations report reads of the gateway's presence.
      imports: [DatabaseModule, NotifierModule, ClientPresenceModule],
      controllers: [ReportsController],
      providers: [
        ReportsService,
        { provide: REPORT_GENERATOR, useClass: options.generator ?? OperationsReportGenerator },
      ],
      exports: [ReportsService, REPORT_GENERATOR],
    };
  }
}
