// Several replicas of the built service (test/fixtures/cluster-server.mjs), each its own
// process, sharing one PostgreSQL database: what a scaled-out deployment runs.
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import type { Run } from '../../src/database/runs.repository.js';
import { spawnServer, type ServerProcess } from './server-process.js';

/** The built service plus the jobs `tick`, `long`, `long-queue` and `marathon`; see the fixture for their settings. */
export const CLUSTER_SERVER = resolve('test/fixtures/cluster-server.mjs');

export interface Replica extends ServerProcess {
  /** Its NODE_ID, which the runs it records carry as `node`. */
  nodeId: string;
}

/** One JSON log line of a replica: `{ level, time, pid, hostname, context, msg, ...fields }`. */
export interface LogLine {
  level: string;
  msg?: string;
  context?: string;
  [field: string]: unknown;
}

export interface Cluster {
  /** The replicas running now, in start order (a restarted one keeps its place). */
  readonly replicas: Replica[];
  /** Every process started, including stopped and killed ones: their output stays readable. */
  readonly started: Replica[];
  /** SIGTERM (graceful: it drains and exits 0), then starts it again with the same NODE_ID. */
  restart(replica: Replica): Promise<Replica>;
  /** Kills a replica with SIGKILL and waits until it is gone. */
  kill(replica: Replica): Promise<void>;
  /** SIGKILLs every process still running and removes the working folder; safe to call twice. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** How many replicas to start, all at once; named node-1, node-2, … */
  replicas: number;
  /** Environment of every replica (DATABASE_URL at least). */
  env: Record<string, string>;
}

/** Whether the process has neither exited nor been killed. */
export function isAlive(replica: ServerProcess): boolean {
  return replica.child.exitCode === null && replica.child.signalCode === null;
}

/** The process's output, one parsed JSON object per line; throws on a line that is not JSON. */
export function logLines(replica: ServerProcess): LogLine[] {
  return replica
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
    });
}

/** Log lines with this `msg`. */
export function logsWith(replica: ServerProcess, msg: string): LogLine[] {
  return logLines(replica).filter((line) => line.msg === msg);
}

/** Every run of the job, newest first (up to 500, the API's page limit). */
export async function runsOf(url: string, job: string): Promise<Run[]> {
  const { body } = await request(url).get(`/api/jobs/${job}/runs?limit=500`).expect(200);
  return body as Run[];
}

export async function runById(url: string, id: string): Promise<Run> {
  const { body } = await request(url).get(`/api/runs/${id}`).expect(200);
  return body as Run;
}

/**
 * Processes running in `dir`: replicas that spawnServer gave up on (it rejects when a process
 * does not listen within 15 s, and leaves it running), found by their working folder, which
 * is the cluster's own. Linux only (/proc); elsewhere none are found.
 */
function processesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dir;
      } catch {
        return false; // ended meanwhile, or not ours to inspect
      }
    })
    .map(Number);
}

/** Starts `replicas` processes at once on one database; `destroy()` it in `afterEach`, whatever happened. */
export async function startCluster({ replicas: count, env }: ClusterOptions): Promise<Cluster> {
  // Real path: it is compared with the working folder of processes (processesIn).
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'jobpulse-cluster-')));
  const replicas: Replica[] = [];
  const started: Replica[] = [];
  let destroyed = false;

  const spawnReplica = async (nodeId: string): Promise<Replica> => {
    if (destroyed) throw new Error('the cluster was destroyed');
    const server = await spawnServer(CLUSTER_SERVER, { ...env, NODE_ID: nodeId }, cwd);
    const replica = { ...server, nodeId };
    started.push(replica);
    return replica;
  };

  const cluster: Cluster = {
    replicas,
    started,
    async restart(replica) {
      const index = replicas.indexOf(replica);
      if (index < 0) throw new Error(`${replica.nodeId} is not running`);
      replica.child.kill('SIGTERM');
      const code = await replica.exited;
      if (code !== 0) throw new Error(`${replica.nodeId} exited with ${code} on SIGTERM:\n${replica.output()}`);
      const again = await spawnReplica(replica.nodeId);
      replicas[index] = again;
      return again;
    },
    async kill(replica) {
      replica.child.kill('SIGKILL');
      await replica.exited;
      replicas.splice(replicas.indexOf(replica), 1);
    },
    async destroy() {
      destroyed = true;
      const running = started.filter(isAlive);
      for (const replica of running) replica.child.kill('SIGKILL');
      await Promise.all(running.map((replica) => replica.exited));
      for (const pid of processesIn(cwd)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      replicas.length = 0;
      rmSync(cwd, { recursive: true, force: true });
    },
  };

  // Started together, as an orchestrator scales out; a replica that fails to start takes the others down.
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, index) => spawnReplica(`node-${index + 1}`)),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await cluster.destroy();
    throw failed.reason;
  }
  replicas.push(...results.map((result) => (result as PromiseFulfilledResult<Replica>).value));
  return cluster;
}
