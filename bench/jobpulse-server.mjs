// The built service, started the way dist/main.js starts it (bootstrap), with the benchmark's
// jobs beside the built-in ones, as a user's module adds its own:
//
//   bench-noop-0 … bench-noop-3   on demand, do nothing: each trigger is one run, so two events
//                                 (job.started, job.succeeded); four so that triggers can overlap
//   bench-tick                    does nothing, on the schedule of its <JOB_NAME>_CRON variable,
//                                 BENCH_TICK_CRON (unset: on demand), to measure schedule lag
//
// Plain JavaScript has no decorator syntax: the decorators are applied by hand, as compiled
// TypeScript applies them (Reflect.decorate).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { bootstrap } from '../dist/bootstrap.js';
import { Job } from '../dist/jobs/index.js';
import { NOOP_JOBS, TICK_JOB } from './bench-jobs.mjs';

class BenchJobs {}
for (const [index, name] of [...NOOP_JOBS, TICK_JOB].entries()) {
  const method = `job${index}`;
  BenchJobs.prototype[method] = async () => {};
  const descriptor = Object.getOwnPropertyDescriptor(BenchJobs.prototype, method);
  Object.defineProperty(
    BenchJobs.prototype,
    method,
    Reflect.decorate([Job(name)], BenchJobs.prototype, method, descriptor) ?? descriptor,
  );
}
Injectable()(BenchJobs);

class BenchJobsModule {}
Module({ providers: [BenchJobs] })(BenchJobsModule);

await bootstrap({ imports: [BenchJobsModule] });
