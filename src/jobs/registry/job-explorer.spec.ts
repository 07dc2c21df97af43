import { jest } from '@jest/globals';
import { Injectable, Logger, Scope, type Provider, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { CLOCK, systemClock } from '../../common/clock.js';
import { CRON_OVERRIDES, Env, loadEnv } from '../../config/env.js';
import { RetentionRepository } from '../../database/retention.repository.js';
import { NotifierService } from '../../notifier/notifier.service.js';
import { ReportsService } from '../../reports/reports.service.js';
import { CleanupJob } from '../builtin/cleanup.job.js';
import { DailyReportJob } from '../builtin/daily-report.job.js';
import { Cron } from '../decorators/cron.decorator.js';
import { Job } from '../decorators/job.decorator.js';
import type { JobContext } from '../job.js';
import { JobExplorer } from './job-explorer.js';
import { JobRegistry } from './job-registry.js';

/** Builds a module of `providers`, lets the explorer find their jobs (onModuleInit), and returns the registry. */
async function explore(providers: Provider[], env: Record<string, string> = {}): Promise<JobRegistry> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [JobRegistry, JobExplorer, { provide: Env, useValue: loadEnv(env) }, ...providers],
  }).compile();
  await moduleRef.init();
  return moduleRef.get(JobRegistry);
}

/** The built-in jobs' dependencies, which discovery never calls. */
const stub = (token: Type): Provider => ({ provide: token, useValue: {} });
const storageStubs: Provider[] = [
  ...[RetentionRepository, NotifierService].map(stub),
  { provide: CLOCK, useValue: systemClock },
];

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Injectable()
class InvoiceJobs {
  readonly calls: string[] = [];

  constructor(private readonly greeter: Greeter) {}

  @Job('invoice-sync', { timeoutMs: 300_000, retries: 3 })
  @Cron('0 0/15 8-18 ? * MON-FRI')
  sync({ runId }: JobContext): Promise<string> {
    this.calls.push(runId);
    return Promise.resolve(this.greeter.greet(runId));
  }

  @Job('ledger-export')
  exportLedger(): Promise<void> {
    return Promise.resolve();
  }

  @Cron('0 0 12 * * ?', { timeZone: 'Europe/Berlin' })
  @Job('berlin-noon')
  noon(): Promise<void> {
    return Promise.resolve();
  }

  /** Not a job: no decorator. */
  helper(): void {}
}

const context = (runId: string): JobContext => ({
  runId,
  job: 'invoice-sync',
  trigger: 'manual',
  attempt: 1,
  signal: new AbortController().signal,
  progress: () => Promise.resolve(),
});

function jobsDeclaring(name: string, decorators: MethodDecorator[]): Type {
  @Injectable()
  class Declaring {
    run(): Promise<void> {
      return Promise.resolve();
    }
  }
  Object.defineProperty(Declaring, 'name', { value: name });
  const descriptor = Object.getOwnPropertyDescriptor(Declaring.prototype, 'run')!;
  for (const decorate of decorators) decorate(Declaring.prototype, 'run', descriptor);
  return Declaring;
}

describe('JobExplorer', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.restoreAllMocks());

  it('finds every @Job method of every provider, several on one provider, in declaration order', async () => {
    const registry = await explore([Greeter, InvoiceJobs]);

    expect(registry.all().map(({ name, source, options, timeZone }) => ({ name, source, options, timeZone }))).toEqual([
      {
        name: 'invoice-sync',
        source: 'InvoiceJobs.sync',
        options: { timeoutMs: 300_000, retries: 3 },
        timeZone: 'UTC',
      },
      { name: 'ledger-export', source: 'InvoiceJobs.exportLedger', options: {}, timeZone: 'UTC' },
      { name: 'berlin-noon', source: 'InvoiceJobs.noon', options: {}, timeZone: 'Europe/Berlin' },
    ]);
  });

  it('reads the schedule and time zone of @Cron, and none for a job without it', async () => {
    const registry = await explore([Greeter, InvoiceJobs], { JOBS_TIME_ZONE: 'America/New_York' });

    expect(registry.get('invoice-sync').schedule).toMatchObject({
      expression: '0 0/15 8-18 ? * MON-FRI',
      timeZone: 'America/New_York',
    });
    expect(registry.get('berlin-noon').schedule).toMatchObject({ timeZone: 'Europe/Berlin' });
    expect(registry.get('ledger-export').schedule).toBeNull();
  });

  it("runs the method on its provider's instance, with that provider's own injections", async () => {
    const registry = await explore([Greeter, InvoiceJobs]);

    await expect(registry.get('invoice-sync').run(context('run-1'))).resolves.toBe('hello run-1');
  });

  it('replaces a schedule with <JOB_NAME>_CRON, and gives an on-demand job one the same way', async () => {
    const registry = await explore([Greeter, InvoiceJobs], {
      INVOICE_SYNC_CRON: '*/5 * * * * ?',
      LEDGER_EXPORT_CRON: '0 0 1 * * ?',
    });

    expect(registry.get('invoice-sync').schedule?.expression).toBe('*/5 * * * * ?');
    expect(registry.get('ledger-export').schedule?.expression).toBe('0 0 1 * * ?');
    expect(registry.get('berlin-noon').schedule?.expression).toBe('0 0 12 * * ?');
  });

  it('warns about a <JOB_NAME>_CRON variable that names no job, and starts', async () => {
    const warnings: unknown[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(message));

    const registry = await explore([Greeter, InvoiceJobs], { INVOICESYNC_CRON: '0 0 * * * ?' });

    expect(registry.get('invoice-sync').schedule?.expression).toBe('0 0/15 8-18 ? * MON-FRI');
    expect(warnings).toEqual([{ msg: 'schedule variable names no job', variable: 'INVOICESYNC_CRON' }]);
  });

  it('declares the built-in jobs with the schedules the configuration reference documents', async () => {
    const registry = await explore([DailyReportJob, CleanupJob, stub(ReportsService), ...storageStubs]);

    expect(
      CRON_OVERRIDES.builtIn.map(({ job }) => [job, registry.get(job).schedule?.expression, registry.get(job).source]),
    ).toEqual([
      ['daily-report', CRON_OVERRIDES.builtIn[0].declared, 'DailyReportJob.run'],
      ['cleanup', CRON_OVERRIDES.builtIn[1].declared, 'CleanupJob.run'],
    ]);
  });

  it.each<[string, MethodDecorator[], RegExp]>([
    ['a bad expression', [Job('bad'), Cron('every hour')], /^BadJobs\.run: job "bad" has an invalid schedule: /],
    ['a bad time zone', [Job('bad'), Cron('0 0 * * * ?', { timeZone: 'Mars/Olympus' })], /^BadJobs\.run: job "bad"/],
    [
      'bad options',
      [Job('bad', { retries: -1 })],
      /^BadJobs\.run: job "bad" has invalid options: retries must be a whole number from 0 to 100, not -1$/,
    ],
    ['@Cron without @Job', [Cron('0 0 * * * ?')], /^BadJobs\.run has @Cron but no @Job/],
    ['a name that is no URL segment', [Job('invoice sync')], /^BadJobs\.run: job name "invoice sync" must be /],
  ])('stops start-up on %s, naming the class and method', async (_, decorators, message) => {
    await expect(explore([jobsDeclaring('BadJobs', decorators)])).rejects.toThrow(message);
  });

  it('stops start-up on two jobs of the same name, naming both declarations', async () => {
    const first = jobsDeclaring('FirstJobs', [Job('twin')]);
    const second = jobsDeclaring('SecondJobs', [Job('twin')]);

    await expect(explore([first, second])).rejects.toThrow(
      'two jobs are named "twin": FirstJobs.run and SecondJobs.run',
    );
  });

  it('stops start-up on two job names that share a <JOB_NAME>_CRON variable', async () => {
    const first = jobsDeclaring('FirstJobs', [Job('invoice-sync')]);
    const second = jobsDeclaring('SecondJobs', [Job('invoice_sync')]);

    await expect(explore([first, second])).rejects.toThrow(
      'jobs "invoice-sync" (FirstJobs.run) and "invoice_sync" (SecondJobs.run) would share INVOICE_SYNC_CRON',
    );
  });

  it('stops start-up on a job of a request-scoped provider, which has no instance outside a request', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestJobs {
      @Job('per-request')
      run(): Promise<void> {
        return Promise.resolve();
      }
    }

    await expect(explore([PerRequestJobs])).rejects.toThrow(
      /^PerRequestJobs\.run: a job cannot be declared on a request-scoped provider/,
    );
  });
});
