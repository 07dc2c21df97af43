import { jest } from '@jest/globals';
import { filter, firstValueFrom } from 'rxjs';
import type { Clock } from '../../src/common/clock.js';
import { loadEnv, type Env } from '../../src/config/env.js';
import { RunsRepository } from '../../src/database/runs.repository.js';
import {
  eventOf,
  type EventType,
  type JobpulseEvent,
  type RunEventData,
  type RunEventType,
} from '../../src/notifier/events.js';
import { NotifierService } from '../../src/notifier/notifier.service.js';
import type { RunnableJob } from '../../src/jobs/job.js';
import { AttemptExecutor } from '../../src/jobs/runner/attempt.js';
import { JobRunner, type RunRequest, type RunStart } from '../../src/jobs/runner/job-runner.js';
import { LeaseKeeper } from '../../src/jobs/runner/lease-keeper.js';
import { OverlapQueue } from '../../src/jobs/runner/overlap-queue.js';
import { RunLedger } from '../../src/jobs/runner/run-ledger.js';
import { RunSlots } from '../../src/jobs/runner/run-slots.js';

/** The runner's parts wired as RunnerModule wires them, with its lifecycle hooks to call by hand. */
export interface TestRunner {
  runner: JobRunner;
  ledger: RunLedger;
  attempts: AttemptExecutor;
  slots: RunSlots;
  queue: OverlapQueue;
  leases: LeaseKeeper;
  /** What Nest does at bootstrap: the first abandoned-run sweep, then the lease and queue timers. */
  bootstrap(): Promise<void>;
  /** What Nest does at shutdown, after the drain: the timers stop. */
  shutdown(): void;
  /**
   * For `afterEach`, before mocks are restored: the drain of a shutdown that
   * waits for nothing, then `shutdown()`, so that no run outlives the test.
   */
  close(): Promise<void>;
}

export interface TestRunnerOptions {
  runs: RunsRepository;
  notifier: NotifierService;
  clock: Clock;
  /** `NODE_ID` replica-a and the defaults otherwise. */
  env?: Env;
}

/** For specs: a runner on the given storage; call `close()` in `afterEach`. */
export function createTestRunner({ runs, notifier, clock, env = testRunnerEnv() }: TestRunnerOptions): TestRunner {
  const ledger = new RunLedger(runs, notifier, env, clock);
  const attempts = new AttemptExecutor(ledger, clock);
  const slots = new RunSlots(attempts);
  const queue = new OverlapQueue(ledger, slots);
  const leases = new LeaseKeeper(ledger, slots, queue, env);
  const runner = new JobRunner(ledger, slots, queue, leases);
  const shutdown = () => {
    leases.onApplicationShutdown();
    queue.onApplicationShutdown();
  };
  return {
    runner,
    ledger,
    attempts,
    slots,
    queue,
    leases,
    bootstrap: async () => {
      await leases.onApplicationBootstrap();
      queue.onApplicationBootstrap();
    },
    shutdown,
    close: async () => {
      await runner.drain(0);
      shutdown();
    },
  };
}

/** The environment of a test runner: replica-a, with the defaults or the given variables. */
export function testRunnerEnv(vars: Record<string, string> = {}): Env {
  return loadEnv({ NODE_ID: 'replica-a', ...vars });
}

/**
 * A RunsRepository that answers as an empty database shared with no other
 * replica would: every insert taken, every outcome recorded. Its methods are
 * Jest mocks to inspect or re-program; any other method throws, since it has
 * no database.
 */
export function stubRunsRepository(): RunsRepository {
  const runs = Object.create(RunsRepository.prototype) as RunsRepository;
  jest.spyOn(runs, 'insert').mockResolvedValue(undefined);
  jest.spyOn(runs, 'begin').mockResolvedValue('begun');
  jest.spyOn(runs, 'finish').mockResolvedValue(true);
  jest.spyOn(runs, 'runningRunOf').mockResolvedValue(undefined);
  jest.spyOn(runs, 'renewLeases').mockResolvedValue([]);
  jest.spyOn(runs, 'abandonExpired').mockResolvedValue([]);
  return runs;
}

/** A notifier that stores nothing: it numbers the events it is given and records them in `published`. */
export interface RecordingNotifier {
  notifier: NotifierService;
  published: JobpulseEvent[];
}

export function recordingNotifier(clock: Clock): RecordingNotifier {
  const notifier = Object.create(NotifierService.prototype) as NotifierService;
  const published: JobpulseEvent[] = [];
  jest.spyOn(notifier, 'publish').mockImplementation((type, data) => {
    const event = eventOf<EventType>(published.length + 1, type, clock.now().toISOString(), data);
    published.push(event);
    return Promise.resolve(event);
  });
  return { notifier, published };
}

/** The events a run ends with. */
export const FINAL_TYPES: EventType[] = ['job.succeeded', 'job.failed', 'job.timed_out', 'job.interrupted'];

/** The run an event is about; undefined for the events that are not about one run (job.paused, ...). */
export function runIdOf(event: JobpulseEvent): string | undefined {
  return 'runId' in event.data ? (event.data.runId ?? undefined) : undefined;
}

const RUN_EVENT_TYPES: Record<RunEventType, true> = {
  'job.started': true,
  'job.succeeded': true,
  'job.failed': true,
  'job.skipped': true,
  'job.queued': true,
  'job.timed_out': true,
  'job.interrupted': true,
  'job.abandoned': true,
};

/** The run data of a job.* lifecycle event; throws for any other event. */
export function runDataOf(event: JobpulseEvent): RunEventData {
  if (!(event.type in RUN_EVENT_TYPES)) throw new Error(`${event.type} is not a run event`);
  return event.data as RunEventData;
}

/** The types of the events about one run, in order. */
export function typesOf(published: JobpulseEvent[], runId: string): EventType[] {
  return published.filter((event) => runIdOf(event) === runId).map((event) => event.type);
}

/** The first event, published already or later, that matches; for a notifier whose `events$` emits. */
export function eventWhere(
  notifier: NotifierService,
  published: JobpulseEvent[],
  predicate: (event: JobpulseEvent) => boolean,
): Promise<JobpulseEvent> {
  const seen = published.find(predicate);
  return seen ? Promise.resolve(seen) : firstValueFrom(notifier.events$.pipe(filter(predicate)));
}

/** A start that no other replica can claim: accepted, or refused as busy. */
export type LocalStart = Exclude<RunStart, { reason: 'claimed' }>;

export async function startOn(runner: JobRunner, job: RunnableJob, request: RunRequest): Promise<LocalStart> {
  const start = await runner.start(job, request);
  if (!start.accepted && start.reason === 'claimed') throw new Error(`run of ${job.name} unexpectedly claimed`);
  return start;
}

/** Lets every queued promise callback run (a job's slot is freed a few callbacks after its last event). */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Fake timers that leave the callbacks `flush` and database drivers rely on real. */
export function useFakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
}
