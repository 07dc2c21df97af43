// A throwaway PostgreSQL server for tests: its own data directory under the system temp
// folder, its own free port on 127.0.0.1, trust authentication, durability off for speed.
//
// Imports node: built-ins only: Jest's global setup loads this file through its CommonJS
// require hook (test/support/jest-global-setup.cjs), where relative `.js` imports of
// TypeScript files do not resolve.
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  appendFileSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PostgresCluster {
  /** Admin URL: database `postgres`, user `postgres`, no password (trust). */
  readonly url: string;
  readonly port: number;
  /** The temporary folder holding the data directory (`data/`), the unix socket and the server log (`postgres.log`). */
  readonly dir: string;
  /** Stops the server (`pg_ctl stop -m fast`: open connections are cut); a no-op when it is not running. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port; a no-op when it is running. */
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

export interface PostgresClusterOptions {
  /** Default 500: every test app pools up to 10 connections plus socket.io's 2, and some tests run several servers. */
  maxConnections?: number;
}

const SERVER_PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

/** What to do when no server binaries are found; also printed by scripts/ensure-postgres.sh. */
export const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found through `pg_config --bindir`, PATH or ' +
  '/usr/lib/postgresql/<version>/bin. Install the PostgreSQL server: on Debian or Ubuntu `apt-get install -y postgresql` ' +
  '(as root; `sh scripts/ensure-postgres.sh` does it), on macOS `brew install postgresql`. ' +
  'Or point the tests at a running server with JOBPULSE_TEST_POSTGRES_URL=postgres://user@host:port/postgres ' +
  '(a user allowed to create databases).';

/**
 * The folder holding initdb, pg_ctl and postgres: `pg_config --bindir`, then PATH, then the
 * highest /usr/lib/postgresql/<version>/bin (where Debian installs them, off PATH).
 * Returns undefined when there is none.
 */
export function findPostgresBinDir(): string | undefined {
  const candidates: string[] = [];
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debianRoot, version, 'bin')));
  }
  return candidates.find((dir) => SERVER_PROGRAMS.every((program) => isExecutable(join(dir, program))));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like {@link findPostgresBinDir}, but throws saying what to install. */
export function requirePostgresBinDir(): string {
  const dir = findPostgresBinDir();
  if (!dir) throw new Error(INSTALL_HINT);
  return dir;
}

/** Quotes one word for /bin/sh. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * How to run a server program. PostgreSQL refuses to run as root, so as root the
 * programs run as the `postgres` user (which Debian's package creates); otherwise
 * as the current user.
 */
interface Runner {
  command(program: string, args: string[]): [string, string[]];
  /** uid and gid to give the temporary folder, when it is not ours. */
  owner?: { uid: number; gid: number };
}

function runner(): Runner {
  if (process.getuid?.() !== 0) return { command: (program, args) => [program, args] };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      'Running as root, but PostgreSQL refuses to run as root and there is no `postgres` user to run it as. ' +
        "Install Debian's `postgresql` package (it creates the user), create one (`useradd --system postgres`), " +
        'or run the tests as a regular user.',
    );
  }
  const owner = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  const hasRunuser = spawnSync('sh', ['-c', 'command -v runuser'], { stdio: 'ignore' }).status === 0;
  return {
    owner,
    command: (program, args) =>
      hasRunuser
        ? ['runuser', ['-u', 'postgres', '--', program, ...args]]
        : ['su', ['-s', '/bin/sh', '-c', [program, ...args].map(shellQuote).join(' '), 'postgres']],
  };
}

/** The environment for server programs: no PG* variables of the caller (PGDATA, PGPORT, PGOPTIONS…), C locale. */
function serverEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

/** Runs a program to its end; rejects with its output when it fails. */
function run(command: [string, string[]], cwd: string): Promise<string> {
  const [file, args] = command;
  return new Promise((resolve, reject) => {
    // stdin ignored and the server's own output goes to its log file (pg_ctl -l), so
    // `exit` comes once pg_ctl is done even though the server it started lives on.
    const child = spawn(file, args, { cwd, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${file} ${args.join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/**
 * A detached shell that outlives this process and stops the server and removes its
 * folder if this process ends (crash, Ctrl-C, SIGKILL) without calling destroy().
 * It ends by itself within a second once the folder is gone.
 */
function startWatchdog(dir: string): void {
  const script = [
    'owner=$1 dir=$2',
    'while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done',
    '[ -d "$dir" ] || exit 0',
    'pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null',
    'for _ in 1 2 3 4 5 6 7 8 9 10; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done',
    'rm -rf "$dir"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'postgres-watchdog', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

/**
 * Creates and starts a throwaway cluster: initdb in a fresh folder under the system
 * temp folder, owned by the user the server runs as, with the unix socket inside it.
 */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const binDir = requirePostgresBinDir();
  const as = runner();
  const program = (name: string) => join(binDir, name);
  const dir = mkdtempSync(join(tmpdir(), 'jobpulse-pg-'));
  if (as.owner) chownSync(dir, as.owner.uid, as.owner.gid);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pidFile = join(dataDir, 'postmaster.pid');
  let port = 0;

  const configure = (chosenPort: number) => {
    // Later lines win over earlier ones, so a retry on another port just appends.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '',
        '# jobpulse test cluster',
        `port = ${chosenPort}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        `max_connections = ${options.maxConnections ?? 500}`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        '',
      ].join('\n'),
    );
    port = chosenPort;
  };
  const pgCtl = (...args: string[]) => run(as.command(program('pg_ctl'), ['-D', dataDir, ...args]), dir);
  const isRunning = () => existsSync(pidFile);
  const start = async () => {
    if (isRunning()) return;
    await pgCtl('-l', logFile, '-w', '-t', '60', 'start');
  };
  const stop = async () => {
    if (!isRunning()) return;
    await pgCtl('-m', 'fast', '-w', '-t', '60', 'stop');
  };

  try {
    await run(
      as.command(program('initdb'), [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
      dir,
    );
    startWatchdog(dir);
    // The port is free when picked but may be taken before the server binds it: then pick another.
    for (let attempt = 1; ; attempt++) {
      configure(await freePort());
      try {
        await start();
        break;
      } catch (error) {
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (attempt >= 5 || !/could not bind|Address already in use/i.test(log)) {
          throw new Error(`${(error as Error).message}\nserver log:\n${log}`, { cause: error });
        }
      }
    }
  } catch (error) {
    await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    stop,
    destroy: async () => {
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
