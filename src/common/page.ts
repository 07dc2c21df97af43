/** One page of a list, newest first. */
export interface Page {
  limit: number;
  /** ISO-8601 instant: only items strictly older than it. */
  before?: string;
}
