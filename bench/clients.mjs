// A client process: holds many sockets to one or more servers under test and tells the runner
// (over IPC) when every one of its sockets of a target holds a given event. Its clock is
// performance.now(); the runner learns the offset to its own (see client-pool.mjs).
//
// Events are recognised as jobpulse sends them, `{ type, data: { runId, job } }`, and only those of
// the benchmark's jobs (`bench-…`) are looked at. Per target, the runner says which types it
// wants to hear about (`report`: one message per event, once every socket has it) and which it
// counts on every socket (`count`, to check that none was lost).
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const CONNECT_CONCURRENCY = 50;
const targets = new Map();

const handlers = {
  clock: () => ({ now: performance.now() }),

  async connect({ target, kind, url, count, topics, report, counted }) {
    const state = {
      sockets: [],
      counts: new Array(count).fill(0),
      pending: new Map(),
      report: new Set(report),
      counted: new Set(counted),
      dropped: 0,
      closing: false,
    };
    targets.set(target, state);
    const started = performance.now();
    for (let first = 0; first < count; first += CONNECT_CONCURRENCY) {
      const batch = [];
      for (let index = first; index < Math.min(count, first + CONNECT_CONCURRENCY); index++) {
        batch.push(
          kind === 'ws' ? connectWs(state, target, index, url) : connectSocketIo(state, target, index, url, topics),
        );
      }
      state.sockets.push(...(await Promise.all(batch)));
    }
    return { ms: performance.now() - started };
  },

  tally({ target }) {
    const { counts, dropped } = targets.get(target);
    return { min: Math.min(...counts), max: Math.max(...counts), sockets: counts.length, dropped };
  },

  reset({ target }) {
    const state = targets.get(target);
    state.counts.fill(0);
    state.pending.clear();
    return {};
  },

  close({ target }) {
    const state = targets.get(target);
    if (!state) return {};
    state.closing = true;
    for (const socket of state.sockets) (socket.disconnect ?? socket.terminate).call(socket);
    targets.delete(target);
    return {};
  },
};

function onEvent(state, target, index, event) {
  if (!event?.data?.job?.startsWith('bench-')) return;
  if (state.counted.has(event.type)) state.counts[index]++;
  if (!state.report.has(event.type)) return;
  const key = `${event.type}:${event.data.runId}`;
  const holders = (state.pending.get(key) ?? 0) + 1;
  if (holders < state.counts.length) {
    state.pending.set(key, holders);
    return;
  }
  state.pending.delete(key);
  process.send({ cmd: 'all', target, key, at: performance.now() });
}

function onDrop(state, target) {
  if (state.closing) return;
  state.dropped++;
  process.send({ cmd: 'dropped', target });
}

async function connectSocketIo(state, target, index, url, topics) {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  socket.on('event', (event) => onEvent(state, target, index, event));
  socket.on('disconnect', () => onDrop(state, target));
  const ack = await socket.timeout(30_000).emitWithAck('subscribe', { topics });
  if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
  return socket;
}

async function connectWs(state, target, index, url) {
  // socket.io-client gives up after 20 s by itself; ws must be told to.
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { handshakeTimeout: 20_000 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('message', (data) => onEvent(state, target, index, JSON.parse(data.toString())));
  socket.on('close', () => onDrop(state, target));
  return socket;
}

process.on('message', async ({ id, cmd, ...args }) => {
  try {
    process.send({ id, ok: true, ...(await handlers[cmd](args)) });
  } catch (error) {
    process.send({ id, ok: false, error: error?.stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
