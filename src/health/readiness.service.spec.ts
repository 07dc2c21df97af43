import { jest } from '@jest/globals';
import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { HealthRepository } from '../database/health.repository.js';
import { DATABASE_TIMEOUT_MS, ReadinessService } from './readiness.service.js';
import { SqliteFile } from './sqlite-file.js';

describe('ReadinessService', () => {
  let database: { ping: jest.Mock<() => Promise<void>>; pendingMigrations: jest.Mock<() => Promise<string[]>> };
  let readiness: ReadinessService;

  beforeEach(async () => {
    database = {
      ping: jest.fn<() => Promise<void>>().mockResolvedValue(),
      pendingMigrations: jest.fn<() => Promise<string[]>>().mockResolvedValue([]),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [
        ReadinessService,
        { provide: SqliteFile, useValue: null },
        { provide: HealthRepository, useValue: database },
      ],
    }).compile();
    readiness = moduleRef.get(ReadinessService);
  });
  afterEach(() => jest.restoreAllMocks());

  /** The 503's body: the same terminus result, with the failing checks under `error`. */
  async function notReady(): Promise<HealthCheckResult> {
    const error = await readiness.check().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    return (error as ServiceUnavailableException).getResponse() as HealthCheckResult;
  }

  it('is ready while the database answers with every migration applied (no file checks without a SQLite file)', async () => {
    const result = await readiness.check();
    expect(result).toMatchObject({ status: 'ok', error: {} });
    expect(Object.keys(result.details)).toEqual(['process', 'database', 'migrations']);
  });

  it('turns not ready once shutdown begins, naming it', async () => {
    readiness.onModuleDestroy();
    expect((await notReady()).error).toEqual({
      process: { status: 'down', message: 'shutting down: finishing the runs in progress' },
    });
  });

  it('names the migrations not applied', async () => {
    database.pendingMigrations.mockResolvedValue(['0005-a', '0006-b']);
    expect((await notReady()).error).toEqual({
      migrations: expect.objectContaining({ status: 'down', message: 'not applied: 0005-a, 0006-b' }),
    });
  });

  it("names the database's error, without the password of a URL in it", async () => {
    database.ping.mockRejectedValue(new Error('connect ECONNREFUSED postgres://jobpulse:hunter2@db/jobpulse'));
    expect((await notReady()).error?.database).toMatchObject({
      status: 'down',
      message: 'database does not answer: connect ECONNREFUSED postgres://jobpulse:***@db/jobpulse',
    });
  });

  it('gives up on a database that takes longer than DATABASE_TIMEOUT_MS to answer', async () => {
    database.ping.mockReturnValue(new Promise(() => undefined));
    expect((await notReady()).error?.database).toMatchObject({
      status: 'down',
      message: `timeout of ${DATABASE_TIMEOUT_MS}ms exceeded`,
    });
  });

  it('logs when readiness changes, not at every probe', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);

    await readiness.check();
    database.pendingMigrations.mockResolvedValue(['0005-a']);
    await notReady();
    await notReady();
    database.pendingMigrations.mockResolvedValue([]);
    await readiness.check();
    await readiness.check();

    expect(warn.mock.calls).toEqual([[{ msg: 'not ready', migrations: 'not applied: 0005-a' }]]);
    expect(log.mock.calls).toEqual([[{ msg: 'ready' }]]);
  });
});
