import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import request from 'supertest';
import { MAIN, SLOW_REPORT_SERVER, spawnServer, type ServerProcess } from './support/server-process.js';
import { HS256_ENV, hs256Token, TEST_SECRET } from './support/tokens.js';

type LogLine = Record<string, unknown>;

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** What a process writes to one of its outputs from now on, as parsed JSON lines. */
class Output {
  private text = '';
  private readonly listeners = new Set<() => void>();

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.text += chunk.toString();
      for (const listener of this.listeners) listener();
    });
  }

  lines(): LogLine[] {
    return this.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Resolves with the first line that matches, once it is written. */
  waitFor(matches: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines().find(matches);
        if (!found) return;
        settle();
        resolve(found);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no such line within ${timeoutMs} ms:\n${this.text}`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }
}

const isRequestLine = (line: LogLine) => line.context === 'HTTP';

/** These run the built service (`npm test` builds first) as a separate process, and read what it writes. */
describe('the logs of the service', () => {
  let dir: string;
  let server: ServerProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobpulse-logging-'));
  });
  afterEach(() => {
    server?.child.kill('SIGKILL');
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one line per request, with its method, route, status, duration and user, and none of its credentials', async () => {
    server = await spawnServer(MAIN, { ...HS256_ENV, REPORT_ON_STARTUP: 'false' }, dir);
    const stdout = new Output(server.child.stdout!);
    const token = await hs256Token({ sub: 'ops-user', roles: ['viewer'] });

    await request(server.url).get('/health/live').expect(200);
    await request(server.url).get('/health/ready').expect(200);
    await request(server.url)
      .get('/api/jobs/cleanup?token=query-secret-value&limit=1')
      .set('Authorization', `Bearer ${token}`)
      .set('Cookie', 'session=cookie-secret-value')
      .expect(200);
    await request(server.url).get('/api/jobs/cleanup').set('Authorization', 'Bearer secret-token-value').expect(401);
    const refused = await stdout.waitFor((line) => isRequestLine(line) && line.status === 401);

    const served = stdout.lines().find((line) => isRequestLine(line) && line.status === 200);
    expect(served).toEqual({
      level: 'info',
      time: expect.stringMatching(ISO_INSTANT),
      pid: server.child.pid,
      hostname: expect.any(String),
      reqId: expect.anything(),
      context: 'HTTP',
      msg: 'request completed',
      method: 'GET',
      route: '/api/jobs/:name',
      url: '/api/jobs/cleanup?token=[Redacted]&limit=1',
      status: 200,
      durationMs: expect.any(Number),
      user: 'ops-user',
    });
    expect(refused).toMatchObject({ level: 'warn', method: 'GET', route: '/api/jobs/:name', status: 401 });
    expect(refused).not.toHaveProperty('user');
    // Probes are written at debug only; they came first, so their lines would be there by now.
    expect(stdout.lines().filter(isRequestLine)).toEqual([served, refused]);
    for (const secret of ['secret-token-value', 'query-secret-value', 'cookie-secret-value', token, TEST_SECRET]) {
      expect(server.output()).not.toContain(secret);
    }
  });

  it('writes each state change of a triggered run with its job, run id, trigger, attempt, duration and node', async () => {
    server = await spawnServer(MAIN, { REPORT_ON_STARTUP: 'false', NODE_ID: 'logging-node' }, dir);
    const stdout = new Output(server.child.stdout!);

    const { body } = await request(server.url).post('/api/jobs/cleanup/trigger').expect(202);
    const succeeded = await stdout.waitFor((line) => line.msg === 'run succeeded' && line.runId === body.runId);

    const run = { job: 'cleanup', runId: body.runId, trigger: 'manual', attempt: 1, of: 1, node: 'logging-node' };
    const started = stdout.lines().find((line) => line.msg === 'run started' && line.runId === body.runId);
    expect(started).toMatchObject({
      level: 'info',
      time: expect.stringMatching(ISO_INSTANT),
      context: 'AttemptExecutor',
      ...run,
    });
    expect(succeeded).toMatchObject({
      level: 'info',
      time: expect.stringMatching(ISO_INSTANT),
      context: 'RunLedger',
      ...run,
      durationMs: expect.any(Number),
    });
  });

  it('writes error lines to stderr only, and the others to stdout only', async () => {
    server = await spawnServer(SLOW_REPORT_SERVER, { REPORT_ON_STARTUP: 'false', SLOW_REPORT_MS: '2000' }, dir);
    const stdout = new Output(server.child.stdout!);
    const stderr = new Output(server.child.stderr!);
    const { body } = await request(server.url).post('/api/jobs/daily-report/trigger').expect(202);
    await stdout.waitFor((line) => line.msg === 'run started' && line.runId === body.runId);

    // While the slow run drains, a trigger is refused with a 503: a server error, written at level error.
    server.child.kill('SIGTERM');
    await stdout.waitFor((line) => line.msg === 'waiting for running jobs');
    await request(server.url).post('/api/jobs/cleanup/trigger').expect(503);
    const failed = await stderr.waitFor(isRequestLine);
    expect(await server.exited).toBe(0);

    expect(failed).toMatchObject({
      level: 'error',
      msg: 'request failed',
      route: '/api/jobs/:name/trigger',
      status: 503,
    });
    const isError = (line: LogLine) => line.level === 'error' || line.level === 'fatal';
    expect(stderr.lines().filter((line) => !isError(line))).toEqual([]);
    expect(stdout.lines().filter(isError)).toEqual([]);
    expect(stdout.lines()).toContainEqual(expect.objectContaining({ msg: 'run succeeded', runId: body.runId }));
  });

  it('writes a start-up failure as one fatal JSON line on stderr, even in development, and nothing on stdout', async () => {
    // NODE_ENV unset: development, whose other lines are readable rather than JSON.
    const env = { PATH: process.env.PATH, PORT: 'eighty' };
    const failure = (await promisify(execFile)(process.execPath, [MAIN], { cwd: dir, env, timeout: 15_000 }).then(
      () => {
        throw new Error('the service started with PORT=eighty');
      },
      (error: unknown) => error,
    )) as { code: number; stdout: string; stderr: string };

    expect(failure.code).toBe(1);
    expect(failure.stdout).toBe('');
    const lines = failure.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      level: 'fatal',
      time: expect.stringMatching(ISO_INSTANT),
      pid: expect.any(Number),
      hostname: expect.any(String),
      context: 'Main',
      msg: expect.stringMatching(/^Invalid environment:\n {2}PORT="eighty": .*PORT must be an integer number/),
    });
  });
});
