import { declaredSchedule, Scheduled } from './scheduled.decorator.js';
import type { JobOptions } from './job-options.js';
import type { Job } from './job.js';

function jobWith(options: JobOptions, name = 'sample', declaredName = name): Job {
  class SampleJob implements Job {
    readonly name = name;
    @Scheduled(declaredName, '0 0 7 * * ?', options)
    onSchedule(): Promise<void> {
      return Promise.resolve();
    }
    run(): Promise<void> {
      return Promise.resolve();
    }
  }
  return new SampleJob();
}

describe('@Scheduled', () => {
  it('declares the schedule and options on the job', () => {
    const options: JobOptions = {
      timeoutMs: 500,
      retries: 2,
      backoff: { initialMs: 10, maxMs: 100 },
      overlap: 'queue',
    };
    expect(declaredSchedule(jobWith(options))).toEqual({ name: 'sample', cron: '0 0 7 * * ?', ...options });
  });

  it('refuses a job without a @Scheduled onSchedule, or declared under another name', () => {
    const bare: Job = { name: 'bare', run: () => Promise.resolve(), onSchedule: () => Promise.resolve() };
    expect(() => declaredSchedule(bare)).toThrow('job "bare" has no @Scheduled onSchedule method');
    expect(() => declaredSchedule(jobWith({}, 'report', 'reports'))).toThrow(
      'job "report" declares its schedule under another name, "reports"',
    );
  });

  it.each<[JobOptions, string]>([
    [{ timeoutMs: 0 }, 'timeoutMs must be a whole number of milliseconds from 1'],
    [{ timeoutMs: 2.5 }, 'timeoutMs must be a whole number'],
    [{ retries: -1 }, 'retries must be a whole number from 0 to 100, not -1'],
    [{ retries: 101 }, 'retries must be a whole number from 0 to 100, not 101'],
    [{ backoff: { initialMs: 0 } }, 'backoff.initialMs must be a positive whole number, not 0'],
    [
      { backoff: { initialMs: 100, maxMs: 50 } },
      'backoff.maxMs must be a whole number no smaller than initialMs, not 50',
    ],
    [{ overlap: 'wait' as 'skip' }, "overlap must be 'skip' or 'queue', not wait"],
    [{ misfire: 'fire-all' as 'ignore' }, "misfire must be 'fire-once' or 'ignore', not fire-all"],
  ])('refuses invalid options %j at start-up, naming the job', (options, message) => {
    expect(() => declaredSchedule(jobWith(options))).toThrow(`job "sample" has invalid options: ${message}`);
  });

  it('accepts a backoff without maxMs', () => {
    expect(declaredSchedule(jobWith({ retries: 1, backoff: { initialMs: 5 } })).backoff).toEqual({ initialMs: 5 });
  });
});
