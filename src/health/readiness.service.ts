import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { redactCredentials } from '../config/env.js';
import { HealthRepository } from '../database/health.repository.js';
import { SqliteFile } from './sqlite-file.js';

/** Inside Kubernetes' default probe timeout (1 s), so a slow database is named in the answer, not cut off with it. */
export const DATABASE_TIMEOUT_MS = 800;

/**
 * Whether this process should receive traffic: no shutdown has begun, the
 * database answers, every migration is applied, and the SQLite file is still
 * the one opened, with room on its disk.
 */
@Injectable()
export class ReadinessService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReadinessService.name);
  private shuttingDown = false;
  /** The checks failing at the last probe: the log gets a line when they change, not one per probe. */
  private failing = '';

  constructor(
    @Inject(SqliteFile) private readonly sqliteFile: SqliteFile | null,
    private readonly database: HealthRepository,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sqliteFile?.remember();
  }

  /**
   * Nest's first hook on SIGTERM, SIGINT or `app.close()`: before the runner
   * drains (`beforeApplicationShutdown`) and before connections close, so a
   * load balancer stops sending traffic while the process still serves.
   */
  onModuleDestroy(): void {
    this.shuttingDown = true;
  }

  /** The terminus result; 503 with the same body, naming each failing check, when not ready. */
  async check(): Promise<HealthCheckResult> {
    try {
      return this.logged(await this.health.check(this.checks()));
    } catch (error) {
      if (error instanceof ServiceUnavailableException) this.logged(error.getResponse() as HealthCheckResult);
      throw error;
    }
  }

  private checks(): HealthIndicatorFunction[] {
    const check = (key: string) => this.indicators.check(key);
    const file = this.sqliteFile;
    return [
      () =>
        this.shuttingDown
          ? check('process').down('shutting down: finishing the runs in progress')
          : check('process').up(),
      check('database')
        .attempt(() =>
          this.database.ping().catch((error: Error) => {
            throw new Error(`database does not answer: ${redactCredentials(error.message)}`);
          }),
        )
        .withTimeout(DATABASE_TIMEOUT_MS),
      check('migrations').attempt(async () => {
        const pending = await this.database.pendingMigrations();
        if (pending.length > 0) throw new Error(`not applied: ${pending.join(', ')}`);
      }),
      ...(file
        ? [
            check('sqliteFile').attempt(() => file.assertStillOpened()),
            check('disk').attempt(() => file.assertDiskHasRoom()),
          ]
        : []),
    ];
  }

  private logged(result: HealthCheckResult): HealthCheckResult {
    const problems = Object.fromEntries(
      Object.entries(result.error ?? {}).map(([key, detail]) => [key, detail?.message]),
    );
    const failing = Object.keys(problems).join();
    if (failing !== this.failing) {
      this.failing = failing;
      if (failing) this.logger.warn({ msg: 'not ready', ...problems });
      else this.logger.log({ msg: 'ready' });
    }
    return result;
  }
}
