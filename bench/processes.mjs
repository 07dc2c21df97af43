// Servers under test, each in a process of its own: spawned on a free loopback port, ready when a
// GET of their readiness path answers 200, stopped with SIGTERM. A server that exits while it is
// under test counts as a crash, which fails the benchmark.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(import.meta.dirname, '..');
/** The build measured: dist/, or the one `BENCH_DIST` names. */
export const BUILD = resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
/** Where servers run from: the repository, or the copy of its build snapshotBuild made. */
let home = ROOT;

/**
 * Copies dist/ and the jobpulse entry point under node_modules/.cache (whose packages they import)
 * and runs servers from there, so that a rebuild during a long run does not change what is
 * measured halfway; and a developer's ./.env is not read. Removed when the run ends.
 * `BENCH_DIST` names another build to measure instead of dist/ (e.g. one compiled with
 * `tsc -p tsconfig.build.json --outDir`), so that a change can be measured while dist/ is in use.
 */
export function snapshotBuild() {
  const dir = resolve(ROOT, 'node_modules/.cache/jobpulse-bench', String(process.pid));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(BUILD, join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'bench'));
  for (const file of ['jobpulse-server.mjs', 'bench-jobs.mjs']) {
    copyFileSync(resolve(ROOT, 'bench', file), join(dir, 'bench', file));
  }
  // Node looks no further than node_modules/ for the package.json saying the build is ES modules.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  home = dir;
}

/** The built service with the benchmark's jobs (see jobpulse-server.mjs). */
export const jobpulseEntry = () => resolve(home, 'bench/jobpulse-server.mjs');

/**
 * What every jobpulse under test runs with: sign-in off and limits nobody reaches, so that the
 * figures compare the service's own work with the baselines'; JSON log lines at the default level,
 * written to /dev/null.
 */
export const JOBPULSE_ENV = {
  NODE_ENV: 'test',
  AUTH_MODE: 'off',
  RATE_LIMIT_READS: '1000000',
  RATE_LIMIT_WRITES: '1000000',
  SOCKETS_PER_USER: '100000',
  REPORT_ON_STARTUP: 'false',
};

const crashes = [];
const running = new Set();

/** Servers that exited on their own while under test, with the end of what they wrote to stderr. */
export const crashesSoFar = {
  /** The crashes not yet taken, emptied. */
  drain: () => crashes.splice(0),
};

/** A TCP port nobody listens on right now. */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Spawns `node entry` with PORT and HOST set and waits until `readyPath` answers 200.
 * Resolves with the server and `readyMs`, the time from spawn to that first 200 (polled every 10 ms).
 */
export async function startServer(name, entry, env = {}, { readyPath = '/health/ready', timeoutMs = 120_000 } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [entry], {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-8192)));
  let stopping = false;
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(server);
    if (!stopping) crashes.push({ name, code: code ?? signal, stderr });
    return code ?? signal;
  });
  const server = {
    name,
    url,
    pid: child.pid,
    stderr: () => stderr,
    exited,
    /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    /** For a server whose event loop is stuck (a report that does not finish): no graceful shutdown to wait for. */
    async kill() {
      stopping = true;
      child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(server);
  const deadline = spawnedAt + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before it was ready:\n${stderr}`);
    }
    if (await answers200(url + readyPath)) break;
    if (performance.now() > deadline) {
      await server.kill();
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${stderr}`);
    }
    await sleep(10);
  }
  server.readyMs = performance.now() - spawnedAt;
  return server;
}

async function answers200(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Kills every server still running: on the way out, whatever happened. */
export function killAll() {
  for (const server of running) process.kill(server.pid, 'SIGKILL');
}

/** Resident set size of a process, in bytes (Linux /proc, else ps). */
export async function residentBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: ask ps
  }
  return new Promise((resolveBytes, reject) => {
    const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)]);
    let out = '';
    ps.stdout.on('data', (chunk) => (out += chunk));
    ps.on('error', reject);
    ps.on('exit', () => resolveBytes(Number(out.trim()) * 1024));
  });
}

/**
 * JSON from a GET, or from a POST when `method` says so; throws on a status other than 2xx, or after
 * `timeoutMs`. A GET is sent again once when its connection was closed under it (a kept-alive
 * connection the server closed as it was reused, which a loop held for seconds makes likely).
 */
export async function requestJson(url, { method = 'GET', body, timeoutMs = 60_000 } = {}) {
  let response;
  for (let attempt = 1; !response; attempt++) {
    try {
      response = await fetch(url, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (method !== 'GET' || attempt > 1 || error.name === 'TimeoutError') throw error;
    }
  }
  const text = await response.text();
  if (!response.ok) {
    throw Object.assign(new Error(`${method} ${url}: ${response.status} ${text}`), { status: response.status });
  }
  return text ? JSON.parse(text) : undefined;
}
