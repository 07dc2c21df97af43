import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export const MAIN = resolve('dist/main.js');
export const SLOW_REPORT_SERVER = resolve('test/fixtures/slow-report-server.mjs');

/** Rate limits no spec's polling reaches; test/rate-limits.e2e-spec.ts sets the limits it tests. */
export const UNLIMITED_RATES = { RATE_LIMIT_READS: '1000000', RATE_LIMIT_WRITES: '1000000' } as const;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Runs a built entry point as its own process, as a container would, and waits until it listens. */
export async function spawnServer(entry: string, env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const { child, output, exited } = run(entry, { PORT: '0', HOST: '127.0.0.1', ...UNLIMITED_RATES, ...env }, cwd);
  const port = await new Promise<number>((resolvePort, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      reject(error);
    };
    // A server that never listens is killed, so it cannot outlive the test and keep Jest running.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`server did not listen within 15 s:\n${output()}`));
    }, 15000);
    const onData = () => {
      const match = /"msg":"listening".*?"port":(\d+)/.exec(output());
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolvePort(Number(match[1]));
    };
    child.stdout.on('data', onData);
    void exited.then((code) => fail(new Error(`server exited (${code}) before listening:\n${output()}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, output, exited };
}

/** Runs an entry point to its end, e.g. one that must refuse to start; killed if it is still running after 15 s. */
export async function runToExit(entry: string, env: Record<string, string>, cwd: string) {
  const { child, output, exited } = run(entry, env, cwd);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

function run(entry: string, env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [entry], {
    cwd,
    // NODE_ENV=test as in Jest itself: unset, it would be development, whose log lines are not JSON.
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { child, output: () => log, exited };
}
