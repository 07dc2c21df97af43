import { io, type Socket } from 'socket.io-client';
import type { JobpulseEvent } from '../../src/notifier/events.js';

const WAIT_MS = 5000;

/** A real socket.io client that records every `event` it receives, in order. */
export class TestClient {
  readonly events: JobpulseEvent[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('event', (event: JobpulseEvent) => {
      this.events.push(event);
      this.waiters.forEach((wake) => wake());
    });
  }

  static async connect(url: string): Promise<TestClient> {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new TestClient(socket);
  }

  emit<T = unknown>(message: string, ...args: unknown[]): Promise<T> {
    return this.socket.timeout(WAIT_MS).emitWithAck(message, ...args) as Promise<T>;
  }

  /** Resolves with the first recorded event matching `predicate`, waiting for it if needed. */
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

  close(): void {
    this.socket.disconnect();
  }
}
