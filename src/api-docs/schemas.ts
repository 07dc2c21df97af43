import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';
import type { HandshakeRefusal } from '../gateway/socket-admission.js';
import type { ResyncMessage } from '../gateway/event-delivery.js';
import type { SubscriptionAck } from '../gateway/events.gateway.js';
import type { ErrorAck } from '../gateway/ws-ack-exception.filter.js';
import type { Run } from '../database/runs.repository.js';
import type { Report } from '../database/reports.repository.js';
import { RUN_STATUSES, type RunTrigger } from '../database/schema.js';
import type { JobView } from '../jobs/jobs.service.js';
import {
  TOPICS,
  type CleanupCompletedData,
  type JobProgressData,
  type JobStateData,
  type ReportCreatedData,
  type RunEventData,
} from '../notifier/events.js';
import type { SchedulePreview } from '../schedules/schedule-preview.dto.js';

/**
 * The response, event and message shapes both documents share, as JSON Schema
 * (OpenAPI 3.1 and AsyncAPI 3.0 read the same dialect). Each object schema is
 * typed by the interface it describes, so a field added to the interface and
 * not here, or the other way round, is a compile error.
 */
export type Schema = SchemaObject | ReferenceObject;

/** Every key of every member of a union (`keyof` of a union keeps only the common ones). */
type AllKeys<T> = T extends unknown ? keyof T : never;
type OptionalKeys<T> = T extends unknown ? { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T] : never;

export function objectOf<T>(
  description: string,
  properties: { [K in AllKeys<T>]-?: Schema },
  optional: readonly OptionalKeys<T>[] = [],
): SchemaObject {
  const keys = Object.keys(properties);
  return {
    type: 'object',
    description,
    properties,
    required: keys.filter((key) => !(optional as readonly string[]).includes(key)),
  };
}

export const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, type: [schema.type as string, 'null'] });
const text = (description: string): SchemaObject => ({ type: 'string', description });
const instant = (description: string): SchemaObject => ({ type: 'string', format: 'date-time', description });
const count = (description: string): SchemaObject => ({ type: 'integer', minimum: 0, description });
const eventId = (description: string): SchemaObject => ({ type: 'integer', minimum: 0, description });
const oneOf = <T extends string>(values: readonly T[], description: string): SchemaObject => ({
  type: 'string',
  enum: [...values],
  description,
});

const RUN_TRIGGERS = Object.keys({
  schedule: true,
  manual: true,
  startup: true,
  'catch-up': true,
  retry: true,
} satisfies Record<RunTrigger, true>);

const runFields = {
  job: text('The job the run belongs to.'),
  trigger: oneOf(RUN_TRIGGERS, 'What started the run.'),
  status: oneOf(RUN_STATUSES, 'Where the run is in its life; see docs/runs.md.'),
  scheduledFor: instant(
    'The fire time for schedule and catch-up runs (kept by their retries); otherwise when requested.',
  ),
  startedAt: instant('When the run started; while queued, when it was queued.'),
  finishedAt: nullable(instant('When the run ended; null while queued or running.')),
  durationMs: nullable({ ...count('How long the run took; null while queued or running, and for an abandoned run.') }),
  error: nullable(
    text("Why the run did not succeed: the job's error, a timeout, an interruption, a lease expiry, a skip."),
  ),
  attempt: {
    type: 'integer',
    minimum: 1,
    description: '1 for a first try; each automatic retry is a run with the next number.',
  },
  maxAttempts: { type: 'integer', minimum: 1, description: "1 + the job's retries." },
  retryOf: nullable(text('The run this one retries (the previous attempt, or the run retried by hand).')),
  node: nullable(text('The NODE_ID of the replica that ran (or queued) the run.')),
} satisfies Record<Exclude<keyof Run, 'id'>, Schema>;

const topic = oneOf(TOPICS, 'A topic a socket can subscribe to.');

/** Nest's error body; `error` is absent when the exception was given a message only (429). */
interface ErrorBody {
  statusCode: number;
  message: string;
  error?: string;
}

interface ValidationErrorBody {
  statusCode: 400;
  message: string[];
  error: 'Bad Request';
}

/** A 409 of a trigger or retry while the job is busy carries the run that is still going. */
interface ConflictBody extends ErrorBody {
  runId?: string;
}

/** What a socket.io client sends in its handshake's `auth`. */
interface HandshakeAuth {
  token?: string;
  lastEventId?: number;
}

const SCHEMAS = {
  Run: objectOf<Run>('A run of a job, as recorded.', { id: text("The run's id (a UUID)."), ...runFields }),
  JobView: objectOf<JobView>('A job with its schedule, pause state and last run.', {
    name: text("The job's name."),
    cron: nullable(text('The schedule in effect (its @Cron, or <JOB_NAME>_CRON); null for an on-demand job.')),
    timeZone: text('The IANA time zone the schedule is read in.'),
    nextRunAt: nullable(instant('The next fire time; null when on demand, paused or with no fire time left.')),
    nextRunsAt: { type: 'array', items: instant('A fire time.'), description: 'The next 5 fire times.' },
    paused: { type: 'boolean', description: 'Paused jobs do not fire on schedule; a trigger still runs them.' },
    running: { type: 'boolean', description: 'Whether a run of the job is running, on any replica.' },
    lastRun: { oneOf: [ref('Run'), { type: 'null' }], description: 'The run that started last, or null.' },
  }),
  TriggerAccepted: objectOf<{ runId: string; job: string; status: string }>(
    'The run a trigger started; it goes on in the background.',
    {
      runId: text('Follow it at GET /api/runs/{runId} or on topic `jobs`.'),
      job: text("The job's name."),
      status: oneOf(['running', 'queued'], '`queued` when the job has overlap: queue and a run is going.'),
    },
  ),
  Report: objectOf<Report>('A stored report.', {
    id: text("The report's id (a UUID)."),
    runId: nullable(text('The run that wrote it.')),
    title: text('Its title.'),
    periodStart: instant('The start of the period it covers.'),
    periodEnd: instant('The end of the period it covers.'),
    createdAt: instant('When it was stored.'),
    content: {
      type: 'object',
      additionalProperties: true,
      description: 'What the report generator returned; the default operations report is described in docs/reports.md.',
    },
  }),
  SchedulePreview: objectOf<SchedulePreview>(
    'The next fire times of a cron expression.',
    {
      cron: text('The expression, as given.'),
      timeZone: text('The zone it was read in.'),
      next: { type: 'array', items: instant('A fire time.'), description: 'Fire times strictly after `from`.' },
      searchedUntil: instant(
        'Present when the bounded search stopped before finding `count` fire times: `next` holds every one up to it.',
      ),
    },
    ['searchedUntil'],
  ),
  HealthStatus: objectOf<{ status: 'ok' }>('The process answers.', { status: oneOf(['ok'], 'Always ok.') }),
  HealthCheckResult: {
    type: 'object',
    description:
      "Terminus' result: each check (process, database, migrations, and on SQLite sqliteFile and disk) under `details`, failing ones also under `error` with a message.",
    required: ['status', 'details'],
    properties: {
      status: oneOf(['ok', 'error', 'shutting_down'], 'ok when every check is up.'),
      info: ref('HealthIndicators'),
      error: ref('HealthIndicators'),
      details: ref('HealthIndicators'),
    },
  },
  HealthIndicators: {
    type: 'object',
    description: 'By check name.',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: {
        status: oneOf(['up', 'down'], 'The check passed.'),
        message: text('Why a check is down.'),
        responseTime: { type: 'number', minimum: 0, description: 'How long the check took, in ms.' },
        freeBytes: count("Of the disk check: the room left on the SQLite file's disk."),
      },
    },
  },
  ErrorBody: objectOf<ErrorBody>(
    "Nest's error body.",
    {
      statusCode: { type: 'integer', description: 'The HTTP status.' },
      message: text('What went wrong, for a person to read.'),
      error: text('The status text, such as Not Found.'),
    },
    ['error'],
  ),
  ValidationErrorBody: objectOf<ValidationErrorBody>('A request that failed validation.', {
    statusCode: { type: 'integer', enum: [400] },
    message: {
      type: 'array',
      items: { type: 'string' },
      description: 'One entry per problem, naming the parameter, e.g. "limit must not be greater than 500".',
    },
    error: oneOf(['Bad Request'], 'The status text.'),
  }),
  ConflictBody: objectOf<ConflictBody>(
    "Nest's error body; with `runId` when the job is busy.",
    {
      statusCode: { type: 'integer', enum: [409] },
      message: text('What conflicts.'),
      error: oneOf(['Conflict'], 'The status text.'),
      runId: text('The run that is still going, when the job is busy.'),
    },
    ['error', 'runId'],
  ),

  RunEventData: objectOf<RunEventData>(
    'The run as recorded when the event was published, its id as `runId`.',
    {
      runId: text("The run's id."),
      ...runFields,
      nextAttemptAt: instant('On a failed or timed-out attempt that will be retried: when the next attempt starts.'),
    },
    ['nextAttemptAt'],
  ),
  JobProgressData: objectOf<JobProgressData>('What the job reported through progress(percent, message?).', {
    runId: text("The run's id."),
    job: text("The job's name."),
    percent: { type: 'number', minimum: 0, maximum: 100 },
    message: nullable(text('What the job said, or null.')),
  }),
  JobStateData: objectOf<JobStateData>('A job paused or resumed.', {
    job: text("The job's name."),
    paused: { type: 'boolean' },
  }),
  ReportCreatedData: objectOf<ReportCreatedData>('A report stored; read it at GET /api/reports/{reportId}.', {
    reportId: text("The report's id."),
    runId: nullable(text('The run that wrote it.')),
    title: text('Its title.'),
    periodStart: instant('The start of the period it covers.'),
    periodEnd: instant('The end of the period it covers.'),
  }),
  CleanupCompletedData: objectOf<CleanupCompletedData>('What the cleanup job removed.', {
    runId: text('The cleanup run.'),
    removed: objectOf<CleanupCompletedData['removed']>('How many were removed.', {
      runs: count('Runs.'),
      reports: count('Reports.'),
      events: count('Events.'),
    }),
    cutoffs: objectOf<CleanupCompletedData['cutoffs']>('Everything older than these instants was removed.', {
      runs: instant('Runs started before it.'),
      reports: instant('Reports created before it.'),
      events: instant('Events published before it.'),
    }),
  }),
  ResyncMessage: objectOf<ResyncMessage>(
    'Sent on the `event` channel instead of a replay when the resume point cannot be served (pruned, or newer than any event): reload over REST, take latestEventId as the last id; live events follow.',
    {
      type: oneOf(['resync'], 'Tells it from an event.'),
      latestEventId: eventId('The newest event the reloaded state should be taken to include.'),
    },
  ),

  HandshakeAuth: objectOf<HandshakeAuth>(
    "The socket.io handshake's `auth`.",
    {
      token: text('The bearer token (with AUTH_MODE=jwt); an Authorization: Bearer header works too.'),
      lastEventId: eventId(
        'The id of the last event handled: the topics subscribed to are replayed from after it. A bad one is reported as an `exception` and the socket stays connected without a resume point.',
      ),
    },
    ['token', 'lastEventId'],
  ),
  HandshakeRefusal: objectOf<HandshakeRefusal>("`connect_error`'s `data` when a handshake is refused.", {
    code: oneOf(
      ['unauthorized', 'forbidden', 'too_many_sockets', 'unavailable'],
      '`unauthorized`: sign in again; `forbidden`: the token lacks the viewer role; `too_many_sockets`: over SOCKETS_PER_USER; `unavailable`: retry later.',
    ),
    reason: text('Why, for a person to read.'),
  }),
  SubscriptionAck: objectOf<SubscriptionAck>(
    'The acknowledgement of subscribe, unsubscribe and resume.',
    {
      ok: { type: 'boolean', enum: [true] },
      topics: { type: 'array', items: topic, description: 'Every topic the socket is subscribed to afterwards.' },
      replayed: count('With a resume point: how many missed events were sent before this acknowledgement.'),
      resync: {
        type: 'boolean',
        enum: [true],
        description: 'A resync message was sent instead of a replay (replayed is then 0).',
      },
    },
    ['replayed', 'resync'],
  ),
  ErrorAck: objectOf<ErrorAck>(
    'A message that failed: its acknowledgement, or an `exception` event when it had none. The connection stays open.',
    {
      ok: { type: 'boolean', enum: [false] },
      error: text('What was wrong, e.g. "topics may only contain jobs, reports, system".'),
    },
  ),
  TokenExpired: objectOf<{ error: string }>(
    'Sent just before the server disconnects a socket whose token expired: reconnect with a fresh token and lastEventId.',
    { error: text('Always "the token has expired".') },
  ),
} satisfies Record<string, SchemaObject>;

export type SharedSchemaName = keyof typeof SCHEMAS;

export const SHARED_SCHEMAS: Record<SharedSchemaName, SchemaObject> = SCHEMAS;
