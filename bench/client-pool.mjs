// The runner's side of the client processes (bench/clients.mjs): spreads a target's sockets over
// them, and turns their reports into "every socket of the target holds this event, at this time
// of the runner's clock".
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const CLIENTS = resolve(import.meta.dirname, 'clients.mjs');
const CLOCK_SAMPLES = 30;

export class ClientPool {
  #workers = [];
  #nextId = 1;
  #replies = new Map();
  /** `${target} ${key}` → { times: [], waiter } */
  #arrivals = new Map();
  /** Targets: how many workers hold sockets of each. */
  #spread = new Map();
  dropped = 0;

  /** Starts `processes` client processes and learns each one's clock offset. */
  static async start(processes) {
    const pool = new ClientPool();
    for (let i = 0; i < processes; i++) {
      const child = fork(CLIENTS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const worker = { child, offset: 0 };
      child.on('message', (message) => pool.#onMessage(worker, message));
      pool.#workers.push(worker);
    }
    for (const worker of pool.#workers) worker.offset = await pool.#clockOffset(worker);
    return pool;
  }

  /**
   * The client's clock minus the runner's, from the round trip with the shortest time: the
   * reply was taken halfway through it, give or take half of it.
   */
  async #clockOffset(worker) {
    let best = { rtt: Infinity, offset: 0 };
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sent = performance.now();
      const { now } = await this.#ask(worker, { cmd: 'clock' });
      const received = performance.now();
      if (received - sent < best.rtt) best = { rtt: received - sent, offset: now - (sent + received) / 2 };
    }
    return best.offset;
  }

  #ask(worker, message) {
    const id = this.#nextId++;
    return new Promise((resolvePromise, reject) => {
      this.#replies.set(id, { resolve: resolvePromise, reject });
      worker.child.send({ id, ...message });
    });
  }

  #onMessage(worker, message) {
    if (message.cmd === 'all') {
      this.#arrived(message.target, message.key, message.at - worker.offset);
    } else if (message.cmd === 'dropped') {
      this.dropped++;
    } else {
      const reply = this.#replies.get(message.id);
      this.#replies.delete(message.id);
      if (message.ok) reply.resolve(message);
      else reply.reject(new Error(message.error));
    }
  }

  #arrival(target, key) {
    const id = `${target} ${key}`;
    let arrival = this.#arrivals.get(id);
    if (!arrival) this.#arrivals.set(id, (arrival = { times: [], waiter: undefined }));
    return { id, arrival };
  }

  #arrived(target, key, at) {
    const { id, arrival } = this.#arrival(target, key);
    arrival.times.push(at);
    if (arrival.times.length === this.#spread.get(target) && arrival.waiter) {
      this.#arrivals.delete(id);
      arrival.waiter.resolve(Math.max(...arrival.times));
    }
  }

  /**
   * Resolves with the runner's time at which the last socket of `target` got the event `key`
   * (`<type>:<runId>`), whether that happened already or not; rejects after `timeoutMs`.
   */
  allHold(target, key, timeoutMs = 60_000) {
    const { id, arrival } = this.#arrival(target, key);
    if (arrival.times.length === this.#spread.get(target)) {
      this.#arrivals.delete(id);
      return Promise.resolve(Math.max(...arrival.times));
    }
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#arrivals.delete(id);
        reject(new Error(`${target}: ${key} did not reach every socket within ${timeoutMs} ms`));
      }, timeoutMs);
      arrival.waiter = {
        resolve: (at) => {
          clearTimeout(timer);
          resolvePromise(at);
        },
      };
    });
  }

  /**
   * Opens `count` sockets to `url`, spread evenly over the processes. `kind` is `socketio` (each
   * subscribes to `topics`) or `ws`; `report` and `counted` are event types (see clients.mjs).
   */
  async connect(target, { kind = 'socketio', url, count, topics = ['jobs'], report = [], counted = [] }) {
    const shares = this.#workers.map(
      (_, i) => Math.floor(count / this.#workers.length) + (i < count % this.#workers.length ? 1 : 0),
    );
    const holders = this.#workers.filter((_, i) => shares[i] > 0);
    this.#spread.set(target, holders.length);
    const started = performance.now();
    await Promise.all(
      this.#workers.map((worker, i) =>
        shares[i] > 0
          ? this.#ask(worker, { cmd: 'connect', target, kind, url, count: shares[i], topics, report, counted })
          : undefined,
      ),
    );
    return performance.now() - started;
  }

  /** Per socket of `target`, the fewest and most counted events seen since it connected or was reset. */
  async tally(target) {
    const replies = await Promise.all(
      this.#holdersOf(target).map((worker) => this.#ask(worker, { cmd: 'tally', target })),
    );
    return {
      min: Math.min(...replies.map((reply) => reply.min)),
      max: Math.max(...replies.map((reply) => reply.max)),
      sockets: replies.reduce((sum, reply) => sum + reply.sockets, 0),
      dropped: replies.reduce((sum, reply) => sum + reply.dropped, 0),
    };
  }

  async reset(target) {
    await Promise.all(this.#holdersOf(target).map((worker) => this.#ask(worker, { cmd: 'reset', target })));
    for (const id of this.#arrivals.keys()) if (id.startsWith(`${target} `)) this.#arrivals.delete(id);
  }

  async close(target) {
    await Promise.all(this.#workers.map((worker) => this.#ask(worker, { cmd: 'close', target })));
    this.#spread.delete(target);
  }

  #holdersOf(target) {
    return this.#workers.slice(0, this.#spread.get(target));
  }

  stop() {
    for (const worker of this.#workers) worker.child.disconnect();
  }
}
