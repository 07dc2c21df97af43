import { io, type Socket } from 'socket.io-client';
import type { ResyncMessage } from '../../src/gateway/event-delivery.js';
import type { ErrorAck } from '../../src/gateway/ws-ack-exception.filter.js';
import type { JobpulseEvent, RunEventType } from '../../src/notifier/events.js';

const WAIT_MS = 5000;

export interface ConnectOptions {
  /** The handshake's `auth`, e.g. `{ lastEventId: 42 }` to resume, `{ token }` to sign in. */
  auth?: Record<string, unknown>;
  /** Headers of the handshake, such as the `Origin` a browser would send. */
  extraHeaders?: Record<string, string>;
}

/** A real socket.io client that records every `event` it receives, in order. */
export class TestClient {
  readonly events: JobpulseEvent[] = [];
  /** Resync messages received on the `event` channel. */
  readonly resyncs: ResyncMessage[] = [];
  /** Every `exception` event received. */
  readonly exceptions: ErrorAck[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('event', (message: JobpulseEvent | ResyncMessage) => {
      if (message.type === 'resync') this.resyncs.push(message);
      else this.events.push(message);
      this.waiters.forEach((wake) => wake());
    });
    socket.on('exception', (reply: ErrorAck) => this.exceptions.push(reply));
  }

  static async connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: options.auth,
      extraHeaders: options.extraHeaders,
    });
    // Listening before the handshake completes: the server may answer it at once.
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return client;
  }

  emit<T = unknown>(message: string, ...args: unknown[]): Promise<T> {
    return this.socket.timeout(WAIT_MS).emitWithAck(message, ...args) as Promise<T>;
  }

  /** Resolves with the first recorded event matching `predicate`, waiting for it if needed. */
  waitFor<E extends JobpulseEvent>(predicate: (event: JobpulseEvent) => event is E, timeoutMs?: number): Promise<E>;
  waitFor(predicate: (event: JobpulseEvent) => boolean, timeoutMs?: number): Promise<JobpulseEvent>;
  waitFor(predicate: (event: JobpulseEvent) => boolean, timeoutMs = WAIT_MS): Promise<JobpulseEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(
          new Error(
            `no matching event within ${timeoutMs} ms; received: ${JSON.stringify(this.events.map((e) => e.type))}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  eventsOfRun(runId: string): JobpulseEvent[] {
    return this.events.filter((event) => (event.data as { runId?: string }).runId === runId);
  }

  /** Resolves with the reason once the socket is disconnected, by either side. */
  disconnected(timeoutMs = WAIT_MS): Promise<string> {
    if (this.socket.disconnected) return Promise.resolve('already disconnected');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** A `waitFor` predicate: an event of `type`, about the job or run named (if given). */
export function runEvent<K extends RunEventType>(type: K, about: { job?: string; runId?: string } = {}) {
  return (event: JobpulseEvent): event is Extract<JobpulseEvent, { type: K }> =>
    event.type === type &&
    'runId' in event.data &&
    (about.job === undefined || event.data.job === about.job) &&
    (about.runId === undefined || event.data.runId === about.runId);
}
