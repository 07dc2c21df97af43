import { CronSchedule } from '../../schedules/cron-schedule.js';
import type { CronMetadata } from '../decorators/cron.decorator.js';
import type { JobMetadata } from '../decorators/job.decorator.js';
import { problemWithOptions } from '../job-options.js';
import type { JobContext } from '../job.js';
import type { JobDefinition } from './job-definition.js';

/** What a decorated method declares, and what start-up knows around it. */
export interface JobDeclaration {
  /** `Class.method`. */
  source: string;
  job: JobMetadata | undefined;
  cron: CronMetadata | undefined;
  run: (context: JobContext) => Promise<unknown>;
  /** The schedule the environment gives the job (`<JOB_NAME>_CRON`), if any. */
  override: (jobName: string) => { variable: string; value: string } | undefined;
  defaultTimeZone: string;
}

/** Letters, digits, `.`, `_` and `-`: the name is a URL segment (`/api/jobs/:name`) and a variable name's stem. */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The job a decorated method declares; throws a message naming the method for every mistake in it. */
export function defineJob({ source, job, cron, run, override, defaultTimeZone }: JobDeclaration): JobDefinition {
  if (!job) throw new Error(`${source} has @Cron but no @Job: name the job with @Job('name')`);
  const { name, options } = job;
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    throw new Error(
      `${source}: job name ${JSON.stringify(name)} must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const problem = problemWithOptions(options);
  if (problem) throw new Error(`${source}: job "${name}" has invalid options: ${problem}`);
  const timeZone = cron?.timeZone ?? defaultTimeZone;
  const fromEnvironment = override(name);
  const expression = fromEnvironment?.value ?? cron?.expression;
  let schedule: CronSchedule | null = null;
  try {
    if (expression !== undefined) schedule = CronSchedule.parse(expression, timeZone);
  } catch (error) {
    const from = fromEnvironment ? ` (${fromEnvironment.variable})` : '';
    throw new Error(`${source}: job "${name}" has an invalid schedule${from}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { name, options, schedule, timeZone, source, run };
}
