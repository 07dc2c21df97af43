const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface Retention {
  runDays: number;
  reportDays: number;
  eventHours: number;
}

export interface RetentionCutoffs {
  runs: Date;
  reports: Date;
  events: Date;
}

/**
 * Everything older than its cutoff is removed. Days are 24-hour spans of
 * elapsed time, not calendar days, so daylight-saving changes do not move a cutoff.
 */
export function retentionCutoffs(now: Date, retention: Retention): RetentionCutoffs {
  const before = (ms: number) => new Date(now.getTime() - ms);
  return {
    runs: before(retention.runDays * DAY_MS),
    reports: before(retention.reportDays * DAY_MS),
    events: before(retention.eventHours * HOUR_MS),
  };
}
