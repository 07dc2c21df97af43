import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { cronVariableOf, Env } from '../../config/env.js';
import { CRON_METADATA, type CronMetadata } from '../decorators/cron.decorator.js';
import { JOB_METADATA, type JobMetadata } from '../decorators/job.decorator.js';
import type { JobContext } from '../job.js';
import { defineJob } from './define-job.js';
import { JobRegistry } from './job-registry.js';

/**
 * Finds every `@Job` method on the application's providers at start-up, as
 * `@nestjs/schedule` finds `@Cron` methods, and registers its definition;
 * any mistake in a declaration stops start-up with the method named.
 */
@Injectable()
export class JobExplorer implements OnModuleInit {
  private readonly logger = new Logger(JobExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: JobRegistry,
    private readonly env: Env,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
    const variables = new Set(this.registry.all().map((job) => cronVariableOf(job.name)));
    for (const variable of this.env.cronOverrideVariables()) {
      // Another program's variable, or a job name misspelt: worth a line, not a failed start.
      if (!variables.has(variable)) this.logger.warn({ msg: 'schedule variable names no job', variable });
    }
  }

  private explore(wrapper: InstanceWrapper): void {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    const prototype = instance ? (Object.getPrototypeOf(instance) as object | null) : null;
    if (!instance || !prototype) return;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const handler = instance[method] as (context: JobContext) => Promise<unknown>;
      const job = this.reflector.get<JobMetadata | undefined>(JOB_METADATA, handler);
      const cron = this.reflector.get<CronMetadata | undefined>(CRON_METADATA, handler);
      if (!job && !cron) continue;
      const source = `${wrapper.metatype?.name ?? String(wrapper.name)}.${method}`;
      // A request-scoped provider has no instance outside a request; @nestjs/schedule only warns, which loses the job silently.
      if (!wrapper.isDependencyTreeStatic()) {
        throw new Error(
          `${source}: a job cannot be declared on a request-scoped provider (or one that injects one); make the provider a singleton`,
        );
      }
      this.registry.register(
        defineJob({
          source,
          job,
          cron,
          run: (context) => handler.call(instance, context),
          override: (name) => this.env.cronOverrideOf(name),
          defaultTimeZone: this.env.JOBS_TIME_ZONE,
        }),
      );
    }
  }
}
