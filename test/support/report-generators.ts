import type { GeneratedReport, IReportGenerator, ReportRequest } from '../../src/reports/report-generator.js';
import { deferred, type Deferred } from './deferred.js';

/** A user-supplied generator whose reports finish only when the test opens the gate. */
export class GatedReportGenerator implements IReportGenerator {
  static gate: Deferred = deferred();
  static requests: ReportRequest[] = [];

  static reset(): void {
    GatedReportGenerator.gate = deferred();
    GatedReportGenerator.requests = [];
  }

  async generate(request: ReportRequest): Promise<GeneratedReport> {
    GatedReportGenerator.requests.push(request);
    await GatedReportGenerator.gate.promise;
    return {
      title: `Custom report for ${request.runId}`,
      content: { source: 'GatedReportGenerator', runId: request.runId },
    };
  }
}

/** A user-supplied generator that always throws. */
export class FailingReportGenerator implements IReportGenerator {
  generate(): Promise<GeneratedReport> {
    return Promise.reject(new Error('warehouse is unreachable'));
  }
}
