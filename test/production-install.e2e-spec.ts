import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { eventually } from './support/deferred.js';
import { argsOf, envOf, execForm, readDockerfile, stageNamed } from './support/dockerfile.js';
import { HS256_ENV, hs256Token, TEST_SECRET } from './support/tokens.js';

const dockerfile = readDockerfile('Dockerfile');
const runtime = stageNamed(dockerfile, 'runtime');
const imageEnv = envOf(runtime);
const [volume] = execForm(argsOf(runtime, 'VOLUME')[0]);
const [installCommand] = argsOf(stageNamed(dockerfile, 'prod-deps'), 'RUN');
const command = execForm(argsOf(runtime, 'CMD')[0]);
const healthcheckArgs = argsOf(runtime, 'HEALTHCHECK')[0];
const healthcheck = execForm(healthcheckArgs.slice(healthcheckArgs.indexOf('CMD ') + 'CMD '.length));
const stopSignal = argsOf(runtime, 'STOPSIGNAL')[0] as NodeJS.Signals;

/** What a deployment adds to the image's environment; production refuses to start without these. */
const DEPLOYMENT_ENV = {
  HOST: '127.0.0.1',
  CORS_ORIGINS: 'https://app.example.test',
  AUTH_JWT_SECRET: HS256_ENV.AUTH_JWT_SECRET,
  AUTH_ISSUER: HS256_ENV.AUTH_ISSUER,
  AUTH_AUDIENCE: HS256_ENV.AUTH_AUDIENCE,
};

describe('the Dockerfile', () => {
  it('is what the production install performs: copies, environment, install, user, command, stop signal', () => {
    expect(argsOf(runtime, 'WORKDIR')).toEqual(['/app']);
    expect(argsOf(runtime, 'COPY')).toEqual([
      'package.json ./',
      '--from=prod-deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
    // A variable the image gains must be given its place in this spec (kept, or overridden and why).
    expect(Object.keys(imageEnv).sort()).toEqual(['DATABASE_URL', 'NODE_ENV', 'PORT']);
    expect(imageEnv.NODE_ENV).toBe('production');
    expect(imageEnv.DATABASE_URL).toBe(`sqlite:${volume}/jobpulse.db`);
    expect(argsOf(runtime, 'EXPOSE')).toEqual([imageEnv.PORT]);
    expect(installCommand).toMatch(/^npm ci --omit=dev( |$)/);
    expect(argsOf(runtime, 'USER')).toEqual(['node']);
    expect(command).toEqual(['node', 'dist/main.js']);
    expect(healthcheck[0]).toBe('node');
    expect(stopSignal).toBe('SIGTERM');
  });
});

/**
 * The container image's steps, without Docker (no engine runs where the tests
 * do): the built `dist/` with package.json and the lock file, the Dockerfile's
 * own production install, then the Dockerfile's command run as an unprivileged
 * user with nothing but the image's environment and what a deployment must
 * add. The steps are read from the Dockerfile, so the two cannot drift apart.
 */
describe('the production install', () => {
  let root: string;
  let app: string;
  let data: string;

  beforeAll(async () => {
    if (!existsSync('dist/main.js')) throw new Error('dist/main.js is missing: run npm run build first');
    root = mkdtempSync(join(tmpdir(), 'jobpulse-production-'));
    chmodSync(root, 0o755); // mkdtemp's 0700 would shut the unprivileged user out
    app = join(root, 'app'); // the image's WORKDIR
    data = join(root, 'data'); // the image's volume
    mkdirSync(app);
    mkdirSync(data);
    cpSync('dist', join(app, 'dist'), { recursive: true });
    cpSync('package.json', join(app, 'package.json'));
    cpSync('package-lock.json', join(app, 'package-lock.json'));
    const [npm, ...npmArgs] = installCommand.split(/\s+/);
    // The machine's npm settings (cache, where Node's headers are) but not Jest's NODE_ENV and NODE_OPTIONS.
    const installEnv = { ...process.env };
    delete installEnv.NODE_ENV;
    delete installEnv.NODE_OPTIONS;
    const install = await finish(spawn(npm, npmArgs, { cwd: app, env: installEnv, stdio: ['ignore', 'pipe', 'pipe'] }));
    if (install.code !== 0)
      throw new Error(`${installCommand} exited ${install.code}:\n${install.output.slice(-4000)}`);
    if (runsAsRoot()) chownSync(data, unprivileged().uid, unprivileged().gid); // the image's chown node:node /data
  }, 420_000); // mostly better-sqlite3's native build, on two busy cores

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('runs unprivileged on the image environment: ready, 401 without a token, a triggered run succeeds, SIGTERM exits 0', async () => {
    const port = await freePort();
    // The image's environment, with the SQLite file in this spec's volume folder and a port free here.
    const env: Record<string, string> = {
      ...imageEnv,
      DATABASE_URL: `sqlite:${data}/jobpulse.db`,
      PORT: String(port),
      ...DEPLOYMENT_ENV,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
    };
    const url = `http://127.0.0.1:${port}`;
    const server = start(command, env);
    try {
      await Promise.race([
        eventually(
          () => statusOf(`${url}/health/ready`),
          (status) => status === 200,
          30_000,
        ),
        server.exited.then((code) => Promise.reject(new Error(`exited ${code} before ready:\n${server.output()}`))),
      ]);
      expect(uidOf(server.child)).not.toBe(0);

      const viewer = `Bearer ${await hs256Token({ roles: ['viewer'] })}`;
      const operator = `Bearer ${await hs256Token({ roles: ['operator'] })}`;
      // The start-up report first: a trigger while it runs would meet it (409).
      await eventually(
        () => request(url).get('/api/jobs/daily-report').set('Authorization', viewer),
        ({ body }) => body.lastRun?.trigger === 'startup' && body.lastRun.status === 'succeeded',
        20_000,
      );
      await request(url).post('/api/jobs/daily-report/trigger').expect(401);
      const { body: triggered } = await request(url)
        .post('/api/jobs/daily-report/trigger')
        .set('Authorization', operator)
        .expect(202);
      const { body: run } = await eventually(
        () => request(url).get(`/api/runs/${triggered.runId}`).set('Authorization', viewer),
        ({ body }) => body.status !== 'queued' && body.status !== 'running',
        20_000,
      );
      expect(run).toMatchObject({ job: 'daily-report', trigger: 'manual', status: 'succeeded', error: null });
      expect(existsSync(join(data, 'jobpulse.db'))).toBe(true);
      expect((await finish(start(healthcheck, env).child)).code).toBe(0);

      server.child.kill(stopSignal);
      expect(await server.exited).toBe(0);
      expect((await finish(start(healthcheck, env).child)).code).toBe(1);
      expect(server.output()).not.toContain(TEST_SECRET);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 60_000);

  /** A command of the image, run in its WORKDIR as an unprivileged user when the tests run as root (USER node). */
  function start([program, ...args]: string[], env: Record<string, string>) {
    const { uid, gid } = unprivileged();
    const argv = runsAsRoot()
      ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', program, ...args]
      : [program, ...args];
    const child = spawn(argv[0], argv.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
    return { child, exited, output: () => output };
  }
});

function runsAsRoot(): boolean {
  return userInfo().uid === 0;
}

/** `nobody`, by number: its group is `nogroup` on Debian and `nobody` elsewhere. */
function unprivileged(): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('nobody:'));
  if (!entry) throw new Error('no user nobody in /etc/passwd to run the service as');
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The real uid of a running process (setpriv execs, so the child's pid is the service's). */
function uidOf(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

async function finish(child: ChildProcess): Promise<{ code: number | string; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { code: code ?? signal ?? 'unknown', output };
}

async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0; // not listening yet
  }
}

/** The image listens on a fixed port, so pick one that is free now (PORT=0 would hide how the health check finds it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolvePort) => server.listen(0, '127.0.0.1', resolvePort));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}
