import type { Run } from '../database/runs.repository.js';

export const TOPICS = ['jobs', 'reports', 'system'] as const;
export type Topic = (typeof TOPICS)[number];

/** What every job.* lifecycle event carries: the run as recorded at that moment, its id as `runId`. */
export type RunEventData = Omit<Run, 'id'> & {
  runId: string;
  /** On a failed or timed-out attempt that will be retried: when the next attempt starts. */
  nextAttemptAt?: string;
};

export interface JobStateData {
  job: string;
  paused: boolean;
}

export interface JobProgressData {
  runId: string;
  job: string;
  percent: number;
  message: string | null;
}

export interface ReportCreatedData {
  reportId: string;
  runId: string | null;
  title: string;
  periodStart: string;
  periodEnd: string;
}

export interface CleanupCompletedData {
  runId: string;
  removed: { runs: number; reports: number; events: number };
  cutoffs: { runs: string; reports: string; events: string };
}

/** Every event jobpulse publishes, by type: its topic and the shape of its data. */
export interface EventMap {
  'job.started': { topic: 'jobs'; data: RunEventData };
  'job.progress': { topic: 'jobs'; data: JobProgressData };
  'job.succeeded': { topic: 'jobs'; data: RunEventData };
  'job.failed': { topic: 'jobs'; data: RunEventData };
  'job.skipped': { topic: 'jobs'; data: RunEventData };
  'job.queued': { topic: 'jobs'; data: RunEventData };
  'job.timed_out': { topic: 'jobs'; data: RunEventData };
  'job.interrupted': { topic: 'jobs'; data: RunEventData };
  'job.abandoned': { topic: 'jobs'; data: RunEventData };
  'job.paused': { topic: 'jobs'; data: JobStateData };
  'job.resumed': { topic: 'jobs'; data: JobStateData };
  'report.created': { topic: 'reports'; data: ReportCreatedData };
  'cleanup.completed': { topic: 'system'; data: CleanupCompletedData };
}

export type EventType = keyof EventMap;

export const EVENT_TOPICS: { [K in EventType]: EventMap[K]['topic'] } = {
  'job.started': 'jobs',
  'job.progress': 'jobs',
  'job.succeeded': 'jobs',
  'job.failed': 'jobs',
  'job.skipped': 'jobs',
  'job.queued': 'jobs',
  'job.timed_out': 'jobs',
  'job.interrupted': 'jobs',
  'job.abandoned': 'jobs',
  'job.paused': 'jobs',
  'job.resumed': 'jobs',
  'report.created': 'reports',
  'cleanup.completed': 'system',
};

/** An event as stored and as sent to clients (socket.io `event`, `GET /api/events`); of type K when given. */
export type JobpulseEvent<K extends EventType = EventType> = {
  [P in K]: { id: number; topic: EventMap[P]['topic']; type: P; at: string; data: EventMap[P]['data'] };
}[K];

/** The event of type K, with the topic its type belongs to. */
export function eventOf<K extends EventType>(
  id: number,
  type: K,
  at: string,
  data: EventMap[K]['data'],
): JobpulseEvent<K> {
  return { id, topic: EVENT_TOPICS[type], type, at, data };
}

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_TOPICS, type);
}

/** The event types whose data is a run. */
export type RunEventType = { [K in EventType]: EventMap[K]['data'] extends RunEventData ? K : never }[EventType];

export function runEventData({ id, ...rest }: Run, nextAttemptAt?: Date): RunEventData {
  return { runId: id, ...rest, ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}) };
}
