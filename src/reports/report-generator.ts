/** Injection token of the report generator; provide it to use your own (see docs/reports.md). */
export const REPORT_GENERATOR = Symbol('REPORT_GENERATOR');

export interface ReportRequest {
  /** The run of the daily-report job that asked for this report. */
  runId: string;
  /** Start of the period the report covers (inclusive). */
  periodStart: Date;
  /** End of the period (exclusive): the moment the report was requested. */
  periodEnd: Date;
  /** Aborted when the service shuts down and the run should stop early. */
  signal: AbortSignal;
}

export interface GeneratedReport {
  title: string;
  /** Any JSON document; stored as is and served by `GET /api/reports/:id`. */
  content: Record<string, unknown>;
}

export interface IReportGenerator {
  generate(request: ReportRequest): Promise<GeneratedReport>;
}
