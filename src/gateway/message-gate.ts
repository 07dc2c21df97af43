import type { Event, Socket } from 'socket.io';
import type { ErrorAck } from './ws-ack-exception.filter.js';

/** The messages a client may send; anything else is answered with an error instead of silence. */
export const CLIENT_MESSAGES = ['subscribe', 'unsubscribe', 'resume'] as const;

/** Deeper than any valid message (`{ topics: [...] }` is 2): deeper payloads are refused before validation walks them. */
export const MAX_PAYLOAD_DEPTH = 8;

/** Refusals in a row, in rate limit periods, after which a socket counts as flooding and is disconnected. */
const FLOOD_PERIODS = 5;

export type Admission = { ok: true } | { ok: false; error: string; disconnect: boolean };

/**
 * A token bucket per socket: up to `perSecond` messages in a burst, refilled
 * at `perSecond`. A socket that goes on sending after FLOOD_PERIODS seconds'
 * worth of refusals in a row is flooding.
 */
export class MessageBudget {
  private tokens: number;
  private refusedInARow = 0;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perSecond;
    this.refilledAt = now();
  }

  take(): Admission {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return { ok: true };
    }
    this.refusedInARow += 1;
    return {
      ok: false,
      error: `too many messages: at most ${this.perSecond} per second (SOCKET_MESSAGES_PER_SECOND)`,
      disconnect: this.refusedInARow > this.perSecond * FLOOD_PERIODS,
    };
  }
}

/** What is wrong with a packet, before any handler sees it; `undefined` when nothing is. */
export function packetProblem([name, ...args]: Event): string | undefined {
  if (!(CLIENT_MESSAGES as readonly unknown[]).includes(name))
    return `unknown message ${JSON.stringify(name).slice(0, 100)}: send ${CLIENT_MESSAGES.join(', ')}`;
  if (args.some((arg) => typeof arg !== 'function' && depthExceeds(arg, MAX_PAYLOAD_DEPTH)))
    return `the message is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`;
}

/** Iterative, so a payload nested thousands of levels deep cannot overflow the stack. */
function depthExceeds(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * Checks every packet a socket sends against its budget and `packetProblem`:
 * a refused message is answered through its acknowledgement (or an
 * `exception` event without one) and never reaches a handler; a flooding
 * socket is disconnected.
 */
export function gateMessages(socket: Socket, perSecond: number): void {
  const budget = new MessageBudget(perSecond);
  socket.use((packet, next) => {
    const admission = budget.take();
    const problem = admission.ok ? packetProblem(packet) : admission.error;
    if (problem === undefined) return next();
    const reply: ErrorAck = { ok: false, error: problem };
    const ack: unknown = packet.at(-1);
    if (typeof ack === 'function') (ack as (reply: ErrorAck) => void)(reply);
    else socket.emit('exception', reply);
    if (!admission.ok && admission.disconnect) socket.disconnect();
  });
}
