import type { LoggerService } from '@nestjs/common';
import type { EventFeed } from '../notifier/event-feed.js';
import { TOPICS, type JobpulseEvent, type Topic } from '../notifier/events.js';

/**
 * Sent on the `event` channel, instead of a replay, to a client whose resume
 * point cannot be served: events after it were pruned, or it is newer than
 * any event. The client reloads its state over REST; live events follow.
 */
export interface ResyncMessage {
  type: 'resync';
  /** The newest event the reloaded state should be taken to include. */
  latestEventId: number;
}

/** What a replaying subscribe or resume did; absent from a plain subscribe. */
export type ReplayOutcome = { replayed: number } | { replayed: 0; resync: true };

/** What delivery needs of one socket; the gateway adapts a socket.io socket to it. */
export interface Subscriber {
  /** Sends to this socket only, on the `event` channel. */
  send(message: JobpulseEvent | ResyncMessage): void;
  join(topics: readonly Topic[]): void;
  leave(topics: readonly Topic[]): void;
  has(topic: Topic): boolean;
}

/** What delivery reads of the notifier's feed. */
export type StoredEvents = Pick<EventFeed, 'readAfter' | 'readBetween' | 'oldestId' | 'latestId'>;

/** Told what delivery sent to sockets, for metrics. */
export interface DeliveryObserver {
  /** A live event was sent to its topic's room. */
  delivered(event: JobpulseEvent): void;
  /** A stored event was sent to one resuming socket that had missed it. */
  replayed(event: JobpulseEvent): void;
  /** A socket was sent a resync message. */
  resynced(): void;
}

export interface EventDeliveryOptions {
  /** Sends an event to every local socket in its topic's room. */
  broadcast(event: JobpulseEvent): void;
  logger: LoggerService;
  observer?: DeliveryObserver;
  /** The safety net for hints that never arrived (an adapter outage). */
  pollIntervalMs?: number;
  /** Events read per query. */
  batchSize?: number;
}

/** What a socket has been sent of one topic: every event in (from, to], or after `from` while `to` is unset. */
interface Coverage {
  from: number;
  to?: number;
}

interface SocketState {
  /** The client's resume point: topics it subscribes to are replayed from here. */
  resumeFrom?: number;
  coverage: Map<Topic, Coverage>;
}

const DEFAULT_POLL_INTERVAL_MS = 2000;
const DEFAULT_BATCH_SIZE = 500;

/**
 * The one path by which a process sends events to its sockets. The horizon is
 * the last event id sent to the rooms. A hint that a newer event exists (from
 * this process's notifier or from another replica) reads every stored event
 * after the horizon, in id order, sends each to its room and moves the
 * horizon. The feed reads events in commit order, so that read has no gaps,
 * and hints can arrive late, twice or out of order.
 * An event this process published that is next after the horizon is sent as
 * the notifier gave it, without reading it back: nothing can be missing before
 * it; when nothing is queued, it is sent at once, within the publish.
 *
 * Everything that touches the horizon or a socket's rooms runs in one queue:
 * a replay for a resuming socket is sent and the socket joins its rooms with
 * no delivery in between, so it gets every event once, in order.
 */
export class EventDelivery {
  private horizon: number | undefined;
  /** The newest id any hint named. */
  private hinted = 0;
  /** Events this process published that are not delivered yet, by id. */
  private readonly own = new Map<number, JobpulseEvent>();
  private tail: Promise<unknown> = Promise.resolve();
  /** Tasks in the queue, the running one included. */
  private queued = 0;
  private drainQueued = false;
  /** Whether the queued drain must read even if no hint asks for it (a poll, shutdown). */
  private readRequested = false;
  private failing = false;
  private poll: NodeJS.Timeout | undefined;
  private readonly sockets = new WeakMap<Subscriber, SocketState>();
  private readonly batchSize: number;

  constructor(
    private readonly feed: StoredEvents,
    private readonly options: EventDeliveryOptions,
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** Sets the horizon to the newest stored event and starts the safety-net poll. */
  start(): Promise<void> {
    this.poll ??= setInterval(() => this.scheduleDrain(true), this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.poll.unref();
    return this.enqueue(() => this.currentHorizon()).then(() => undefined);
  }

  /** Stops polling and sends what is stored but not yet sent; for shutdown. */
  async stop(): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
    this.scheduleDrain(true);
    await this.tail;
  }

  /** The last event id sent to the rooms (undefined before the first read). */
  get deliveredUpTo(): number | undefined {
    return this.horizon;
  }

  /**
   * An event published by this process. With nothing queued it is sent at
   * once if it is next in line: that is all the next drain would do, a few
   * turns of the event loop later.
   */
  published(event: JobpulseEvent): void {
    if (this.horizon !== undefined && event.id <= this.horizon) return;
    if (this.own.size < this.batchSize) this.own.set(event.id, event);
    if (this.queued === 0 && this.horizon !== undefined) this.sendOwnInLine();
    this.hint(event.id);
  }

  /** Event `id` exists; anything up to it that was not sent yet will be. */
  hint(id: number): void {
    if (this.horizon !== undefined && id <= this.horizon) return;
    this.hinted = Math.max(this.hinted, id);
    this.scheduleDrain(false);
  }

  /** The socket's resume point from its handshake, before it subscribes to anything. */
  connected(subscriber: Subscriber, lastEventId?: number): void {
    this.sockets.set(subscriber, { resumeFrom: lastEventId, coverage: new Map() });
  }

  /**
   * Joins the topics' rooms. With a resume point, the stored events of the
   * newly joined topics after it are sent first, or a resync message when they
   * cannot all be; without one, the socket gets events from now on.
   */
  subscribe(subscriber: Subscriber, topics: readonly Topic[]): Promise<ReplayOutcome | undefined> {
    return this.enqueue(async () => {
      const state = this.stateOf(subscriber);
      const fresh = unique(topics).filter((topic) => !subscriber.has(topic));
      if (state.resumeFrom === undefined) {
        const horizon = await this.currentHorizon();
        for (const topic of fresh) state.coverage.set(topic, { from: horizon });
        subscriber.join(fresh);
        return undefined;
      }
      const horizon = await this.deliverPending();
      const starts = new Map(fresh.map((topic) => [topic, state.coverage.get(topic)?.to ?? state.resumeFrom!]));
      const ranges = new Map<Topic, [number, number]>();
      for (const [topic, after] of starts) if (after < horizon) ranges.set(topic, [after, horizon]);
      const outcome = await this.replay(subscriber, state, [...starts.values()], ranges, horizon);
      for (const [topic, after] of starts) {
        state.coverage.set(topic, { from: 'resync' in outcome ? horizon : (state.coverage.get(topic)?.from ?? after) });
      }
      subscriber.join(fresh);
      return outcome;
    });
  }

  unsubscribe(subscriber: Subscriber, topics: readonly Topic[]): Promise<void> {
    return this.enqueue(async () => {
      const state = this.stateOf(subscriber);
      const leaving = unique(topics).filter((topic) => subscriber.has(topic));
      const horizon = await this.currentHorizon();
      for (const topic of leaving) {
        const coverage = state.coverage.get(topic);
        if (coverage) coverage.to = horizon;
      }
      subscriber.leave(leaving);
    });
  }

  /**
   * Sets the socket's resume point. The topics it is subscribed to get the
   * stored events after it that were not sent to it yet (they come after the
   * live events it already has: resume before subscribing for strict order).
   */
  resume(subscriber: Subscriber, lastEventId: number): Promise<ReplayOutcome> {
    return this.enqueue(async () => {
      const state = this.stateOf(subscriber);
      const horizon = await this.deliverPending();
      const ranges = new Map<Topic, [number, number]>();
      for (const topic of TOPICS) {
        const coverage = state.coverage.get(topic);
        if (!coverage || lastEventId >= coverage.from) continue;
        if (subscriber.has(topic)) ranges.set(topic, [lastEventId, coverage.from]);
        // A topic left earlier is replayed from the new point when subscribed again.
        else state.coverage.delete(topic);
      }
      const outcome = await this.replay(subscriber, state, [lastEventId], ranges, horizon);
      if (!('resync' in outcome)) {
        state.resumeFrom = lastEventId;
        for (const topic of ranges.keys()) state.coverage.get(topic)!.from = lastEventId;
      }
      return outcome;
    });
  }

  /**
   * Sends the stored events of each topic in its range, in id order, or a
   * resync message (and resets the socket to the horizon) when one of the
   * points it resumes from is newer than any event, or events after it were pruned.
   */
  private async replay(
    subscriber: Subscriber,
    state: SocketState,
    starts: number[],
    ranges: Map<Topic, [number, number]>,
    horizon: number,
  ): Promise<ReplayOutcome> {
    if (starts.some((start) => start > horizon) || (await this.pruned(Math.min(...starts), horizon))) {
      subscriber.send({ type: 'resync', latestEventId: horizon });
      this.options.observer?.resynced();
      state.resumeFrom = horizon;
      for (const [topic, coverage] of state.coverage) {
        if (subscriber.has(topic)) coverage.from = horizon;
        else state.coverage.delete(topic);
      }
      return { replayed: 0, resync: true };
    }
    if (ranges.size === 0) return { replayed: 0 };
    const after = Math.min(...[...ranges.values()].map(([from]) => from));
    const upTo = Math.max(...[...ranges.values()].map(([, to]) => to));
    let replayed = 0;
    for await (const event of this.feed.readBetween(after, upTo, [...ranges.keys()], this.batchSize)) {
      const [from, to] = ranges.get(event.topic)!;
      if (event.id <= from || event.id > to) continue;
      subscriber.send(event);
      this.options.observer?.replayed(event);
      replayed += 1;
    }
    return { replayed };
  }

  /** Whether some event in (after, horizon] may have been deleted by retention. */
  private async pruned(after: number, horizon: number): Promise<boolean> {
    if (!(after < horizon)) return false;
    const oldest = await this.feed.oldestId();
    return oldest === null || oldest > after + 1;
  }

  private scheduleDrain(read: boolean): void {
    this.readRequested ||= read;
    if (this.drainQueued) return;
    this.drainQueued = true;
    void this.enqueue(() => this.deliverPending(false)).catch(() => undefined);
  }

  /**
   * Sends every event after the horizon to its room, reading them unless they
   * are this process's own, next in line, and no hint or poll asks for more
   * (`read` forces it); returns the new horizon.
   */
  private async deliverPending(read = true): Promise<number> {
    read ||= this.readRequested;
    this.drainQueued = false;
    this.readRequested = false;
    await this.currentHorizon();
    let horizon = this.sendOwnInLine();
    if (!read && this.hinted <= horizon) return horizon;
    try {
      for await (const event of this.feed.readAfter(horizon, this.batchSize)) {
        this.options.broadcast(event);
        this.options.observer?.delivered(event);
        this.horizon = horizon = event.id;
      }
      for (const id of this.own.keys()) if (id <= horizon) this.own.delete(id);
    } catch (error) {
      this.reportFailure(error);
      throw error;
    }
    if (this.failing) {
      this.failing = false;
      this.options.logger.log({ msg: 'event delivery resumed', deliveredUpTo: horizon });
    }
    return horizon;
  }

  /** Sends this process's own events that come next after the horizon, which is known; returns the new horizon. */
  private sendOwnInLine(): number {
    let horizon = this.horizon!;
    for (let event = this.own.get(horizon + 1); event; event = this.own.get(horizon + 1)) {
      this.own.delete(event.id);
      this.options.broadcast(event);
      this.options.observer?.delivered(event);
      this.horizon = horizon = event.id;
    }
    return horizon;
  }

  private async currentHorizon(): Promise<number> {
    if (this.horizon === undefined) {
      try {
        this.horizon = await this.feed.latestId();
      } catch (error) {
        this.reportFailure(error);
        throw error;
      }
    }
    return this.horizon;
  }

  /** Once per outage: the poll retries every interval meanwhile. */
  private reportFailure(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.options.logger.error({
      msg: 'event delivery paused: cannot read events',
      error: (error as Error)?.message ?? String(error),
      deliveredUpTo: this.horizon,
    });
  }

  private stateOf(subscriber: Subscriber): SocketState {
    let state = this.sockets.get(subscriber);
    if (!state) this.sockets.set(subscriber, (state = { coverage: new Map() }));
    return state;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined).then(() => (this.queued -= 1));
    return run;
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
