import { Injectable, NotFoundException } from '@nestjs/common';
import { cronVariableOf } from '../../config/env.js';
import type { JobDefinition } from './job-definition.js';

/** Every job of the application, by name, in the order they were discovered. */
@Injectable()
export class JobRegistry {
  private readonly jobs = new Map<string, JobDefinition>();

  /** Called by the explorer at start-up; a second job of the same name is refused with both declarations named. */
  register(job: JobDefinition): void {
    const existing = this.jobs.get(job.name);
    if (existing) {
      throw new Error(`two jobs are named "${job.name}": ${existing.source} and ${job.source}`);
    }
    const variable = cronVariableOf(job.name);
    const sharing = this.all().find((other) => cronVariableOf(other.name) === variable);
    if (sharing) {
      throw new Error(
        `jobs "${sharing.name}" (${sharing.source}) and "${job.name}" (${job.source}) would share ${variable}`,
      );
    }
    this.jobs.set(job.name, job);
  }

  all(): JobDefinition[] {
    return [...this.jobs.values()];
  }

  /** The job named `name`; 404 when there is none. */
  get(name: string): JobDefinition {
    const job = this.jobs.get(name);
    if (!job) throw new NotFoundException(`job "${name}" does not exist`);
    return job;
  }
}
