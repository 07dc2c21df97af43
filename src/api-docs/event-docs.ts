import type { SchemaObject } from '@nestjs/swagger';
import {
  EVENT_TOPICS,
  type CleanupCompletedData,
  type EventMap,
  type EventType,
  type JobProgressData,
  type JobpulseEvent,
  type JobStateData,
  type ReportCreatedData,
  type RunEventData,
} from '../notifier/events.js';
import { objectOf, ref, type SharedSchemaName } from './schemas.js';

/** The data schemas of SHARED_SCHEMAS, with the type each describes. */
interface EventDataSchemas {
  RunEventData: RunEventData;
  JobProgressData: JobProgressData;
  JobStateData: JobStateData;
  ReportCreatedData: ReportCreatedData;
  CleanupCompletedData: CleanupCompletedData;
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The name of the data schema that describes D exactly. */
type DataSchemaOf<D> = {
  [N in keyof EventDataSchemas & SharedSchemaName]: Same<EventDataSchemas[N], D> extends true ? N : never;
}[keyof EventDataSchemas & SharedSchemaName];

interface EventDoc<K extends EventType> {
  data: DataSchemaOf<EventMap[K]['data']>;
  /** When it is published. */
  when: string;
}

/**
 * What the documents say of each event type. The event map has its types at
 * run time only through EVENT_TOPICS; this map is typed by it, so an event
 * type added without its description here, or described with the data schema
 * of another type, is a compile error.
 */
export const EVENT_DOCS = {
  'job.queued': {
    data: 'RunEventData',
    when: "A request came while the job was busy and the job has overlap: 'queue' (status queued). The run starts, with the same runId, when the run ahead of it ends.",
  },
  'job.started': {
    data: 'RunEventData',
    when: 'An attempt starts: a new run, a queued run whose turn has come, or an automatic retry (status running).',
  },
  'job.progress': {
    data: 'JobProgressData',
    when: 'The job called progress(percent, message?).',
  },
  'job.succeeded': {
    data: 'RunEventData',
    when: "The job's method returned (status succeeded).",
  },
  'job.failed': {
    data: 'RunEventData',
    when: "The job's method threw (status failed, error the message; nextAttemptAt when another attempt follows).",
  },
  'job.timed_out': {
    data: 'RunEventData',
    when: "The attempt outlived the job's timeoutMs and its signal was aborted (status timed_out; nextAttemptAt when another attempt follows).",
  },
  'job.interrupted': {
    data: 'RunEventData',
    when: 'The run was still going when the shutdown timeout ran out; its signal was aborted (status interrupted).',
  },
  'job.abandoned': {
    data: 'RunEventData',
    when: 'The lease of a run whose process stopped without recording its outcome expired (status abandoned).',
  },
  'job.skipped': {
    data: 'RunEventData',
    when: 'A tick, trigger, retry, catch-up or start-up run came while the job was busy and could not wait, or a queued run was dropped at shutdown (status skipped). No job.started precedes it.',
  },
  'job.paused': {
    data: 'JobStateData',
    when: 'POST /api/jobs/{name}/pause paused a job that was not paused.',
  },
  'job.resumed': {
    data: 'JobStateData',
    when: 'POST /api/jobs/{name}/resume resumed a paused job.',
  },
  'report.created': {
    data: 'ReportCreatedData',
    when: 'daily-report stored a report (before its final job.progress and job.succeeded).',
  },
  'cleanup.completed': {
    data: 'CleanupCompletedData',
    when: 'cleanup removed old runs, reports and events (before its job.succeeded).',
  },
} satisfies { [K in EventType]: EventDoc<K> };

/** Every event type, from the event map's own run-time list. */
export const EVENT_TYPES = Object.keys(EVENT_TOPICS) as EventType[];

/** `job.timed_out` → `JobTimedOutEvent`: the component name of one event type's envelope. */
export function eventSchemaName(type: EventType): string {
  const words = type.split(/[._]/).map((word) => word[0].toUpperCase() + word.slice(1));
  return `${words.join('')}Event`;
}

/** One envelope schema per event type, and `Event`, any of them. */
export function eventSchemas(): Record<string, SchemaObject> {
  const envelopes = EVENT_TYPES.map((type) => [eventSchemaName(type), envelopeOf(type)] as const);
  return {
    ...Object.fromEntries(envelopes),
    Event: {
      description: 'A stored event, as GET /api/events lists it and the socket.io message `event` carries it.',
      oneOf: EVENT_TYPES.map((type) => ref(eventSchemaName(type))),
    },
  };
}

function envelopeOf(type: EventType): SchemaObject {
  return objectOf<JobpulseEvent>(`\`${type}\` on topic \`${EVENT_TOPICS[type]}\`: ${EVENT_DOCS[type].when}`, {
    id: { type: 'integer', minimum: 1, description: 'Increasing, never reused, across replicas too.' },
    topic: { type: 'string', enum: [EVENT_TOPICS[type]] },
    type: { type: 'string', enum: [type] },
    at: { type: 'string', format: 'date-time', description: 'When it was published.' },
    data: ref(EVENT_DOCS[type].data),
  });
}
