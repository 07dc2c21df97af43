import { Registry } from 'prom-client';
import { makeRun } from '../../test/support/factories.js';
import type { Run } from '../database/runs.repository.js';
import { eventOf, runEventData, type RunEventType } from '../notifier/events.js';
import { RunMetrics } from './run-metrics.js';
import { sampleValue } from './testing.js';

describe('RunMetrics', () => {
  let registry: Registry;
  let held: string[];
  let metrics: RunMetrics;
  let nextId = 1;

  beforeEach(() => {
    registry = new Registry();
    held = [];
    metrics = new RunMetrics(registry, () => held);
  });

  const record = (type: RunEventType, run: Run) =>
    metrics.record(eventOf(nextId++, type, run.startedAt, runEventData(run)));
  const value = (name: string, labels?: Record<string, string>) => sampleValue(registry, name, labels);

  it('counts each ended run by job, trigger and final status, and its duration if it ran', async () => {
    record('job.succeeded', makeRun({ job: 'sync', trigger: 'manual', status: 'succeeded', durationMs: 2500 }));
    record('job.failed', makeRun({ job: 'sync', trigger: 'schedule', status: 'failed' }));
    record('job.timed_out', makeRun({ job: 'sync', trigger: 'schedule', status: 'timed_out' }));
    record('job.interrupted', makeRun({ job: 'report', trigger: 'startup', status: 'interrupted' }));
    record('job.skipped', makeRun({ job: 'sync', trigger: 'schedule', status: 'skipped', durationMs: 0 }));
    record('job.abandoned', makeRun({ job: 'report', trigger: 'catch-up', status: 'abandoned' }));

    await expect(value('jobpulse_runs_total', { job: 'sync', trigger: 'manual', status: 'succeeded' })).resolves.toBe(
      1,
    );
    await expect(value('jobpulse_runs_total', { job: 'sync', trigger: 'schedule', status: 'failed' })).resolves.toBe(1);
    await expect(value('jobpulse_runs_total', { job: 'sync', trigger: 'schedule', status: 'timed_out' })).resolves.toBe(
      1,
    );
    await expect(
      value('jobpulse_runs_total', { job: 'report', trigger: 'startup', status: 'interrupted' }),
    ).resolves.toBe(1);
    await expect(value('jobpulse_runs_skipped_total', { job: 'sync' })).resolves.toBe(1);
    await expect(value('jobpulse_runs_total', { job: 'sync', trigger: 'schedule', status: 'skipped' })).resolves.toBe(
      1,
    );
    await expect(value('jobpulse_runs_abandoned_total', { job: 'report' })).resolves.toBe(1);
    await expect(
      value('jobpulse_runs_total', { job: 'report', trigger: 'catch-up', status: 'abandoned' }),
    ).resolves.toBe(1);
    // Skipped and abandoned runs did not run here: they have no duration to observe.
    await expect(value('jobpulse_run_duration_seconds_count', { job: 'sync' })).resolves.toBe(3);
    await expect(value('jobpulse_run_duration_seconds_sum', { job: 'sync' })).resolves.toBe(4.5);
    await expect(value('jobpulse_run_duration_seconds_count', { job: 'report' })).resolves.toBe(1);
  });

  it('counts runs in progress from their start to their end', async () => {
    const run = makeRun({ job: 'sync' });
    held = [run.id];
    record('job.started', run);
    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(1);

    record('job.succeeded', { ...run, status: 'succeeded', durationMs: 10 });
    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(0);
  });

  it('stops counting a run in progress once the runner no longer holds it, though its end was never announced', async () => {
    const lost = makeRun({ job: 'sync' });
    const running = makeRun({ job: 'report' });
    held = [lost.id, running.id];
    record('job.started', lost);
    record('job.started', running);
    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(1);

    held = [running.id];
    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(0);
    await expect(value('jobpulse_runs_in_progress', { job: 'report' })).resolves.toBe(1);
    // Its late outcome, if announced after all, does not count it out twice.
    record('job.interrupted', { ...lost, status: 'interrupted', durationMs: 10 });
    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(0);
  });

  it('counts attempts after the first as retries', async () => {
    const first = makeRun({ job: 'sync', maxAttempts: 3 });
    held = [first.id];
    record('job.started', first);
    record('job.started', makeRun({ job: 'sync', attempt: 2, maxAttempts: 3, retryOf: first.id }));
    record('job.started', makeRun({ job: 'sync', attempt: 3, maxAttempts: 3 }));
    // A retry by hand is a new run: its first attempt.
    record('job.started', makeRun({ job: 'sync', trigger: 'retry', retryOf: first.id }));

    await expect(value('jobpulse_run_retries_total', { job: 'sync' })).resolves.toBe(2);
  });

  it('measures the schedule lag of the first attempts of scheduled and catch-up runs only', async () => {
    const firedAt = '2025-01-01T07:00:00.000Z';
    const late = (seconds: number) => new Date(Date.parse(firedAt) + seconds * 1000).toISOString();
    record('job.started', makeRun({ trigger: 'schedule', scheduledFor: firedAt, startedAt: late(0.02) }));
    record('job.started', makeRun({ trigger: 'catch-up', scheduledFor: firedAt, startedAt: late(7200) }));
    record('job.started', makeRun({ trigger: 'schedule', scheduledFor: firedAt, startedAt: late(90), attempt: 2 }));
    record('job.started', makeRun({ trigger: 'manual', scheduledFor: firedAt, startedAt: late(30) }));
    // A timer that fired a hair early: no negative lag.
    record('job.started', makeRun({ trigger: 'schedule', scheduledFor: firedAt, startedAt: late(-0.001) }));

    await expect(value('jobpulse_schedule_lag_seconds_count', { job: 'sync' })).resolves.toBe(3);
    await expect(value('jobpulse_schedule_lag_seconds_sum', { job: 'sync' })).resolves.toBeCloseTo(7200.02, 6);
    await expect(value('jobpulse_schedule_lag_seconds_bucket', { job: 'sync', le: '0.005' })).resolves.toBe(1);
    await expect(value('jobpulse_schedule_lag_seconds_bucket', { job: 'sync', le: '0.05' })).resolves.toBe(2);
  });

  it('ignores events that are not about runs', async () => {
    metrics.record(eventOf(1, 'job.paused', '2025-01-01T07:00:00.000Z', { job: 'sync', paused: true }));
    metrics.record(
      eventOf(2, 'job.progress', '2025-01-01T07:00:00.000Z', { runId: 'r', job: 'sync', percent: 5, message: null }),
    );

    await expect(value('jobpulse_runs_in_progress', { job: 'sync' })).resolves.toBe(0);
    expect((await registry.getMetricsAsJSON()).every((metric) => metric.values.length === 0)).toBe(true);
  });
});
