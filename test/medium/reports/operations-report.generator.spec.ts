import { statusCounts } from '../../support/run-counts.js';
import type { Kysely } from 'kysely';
import { EventsRepository } from '../../../src/database/events.repository.js';
import { RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database, RunStatus } from '../../../src/database/schema.js';
import { createTestDatabase } from '../../support/database.js';
import { makeRun } from '../../support/factories.js';
import type { ClientPeak } from '../../../src/reports/client-peak.js';
import { OperationsReportGenerator } from '../../../src/reports/operations-report.generator.js';
import type { OperationsReport } from '../../../src/reports/operations-report.js';

const PERIOD_START = '2025-01-01T07:00:00.000Z';
const PERIOD_END = '2025-01-02T07:00:00.000Z';

describe('OperationsReportGenerator', () => {
  let db: Kysely<Database>;
  let runs: RunsRepository;
  let events: EventsRepository;
  /** The peaks the presence reports, one per call. */
  let peaks: number[];
  let generator: OperationsReportGenerator;

  beforeEach(async () => {
    db = await createTestDatabase();
    runs = new RunsRepository(db);
    events = new EventsRepository(db);
    peaks = [];
    const clients: ClientPeak = { takePeak: () => peaks.shift() ?? 0 };
    generator = new OperationsReportGenerator(runs, events, clients);
  });

  afterEach(async () => {
    await db.destroy();
  });

  async function insertRun(id: string, job: string, startedAt: string, status: RunStatus, durationMs: number | null) {
    const run = makeRun({
      id,
      job,
      trigger: 'schedule',
      status,
      startedAt,
      finishedAt: status === 'running' || status === 'queued' ? null : startedAt,
      durationMs,
      error: status === 'failed' || status === 'timed_out' ? `${id} failed` : null,
    });
    await runs.insert(run);
  }

  async function insertEvent(topic: string, at: string) {
    await events.insert({ topic, type: `${topic}.something`, at, data: {} });
  }

  function generate(signal = new AbortController().signal) {
    return generator.generate({
      runId: 'report-run',
      periodStart: new Date(PERIOD_START),
      periodEnd: new Date(PERIOD_END),
      signal,
    });
  }

  it('summarizes only the runs that started within [start, end)', async () => {
    await insertRun('before', 'sync', '2025-01-01T06:59:59.999Z', 'failed', 999);
    await insertRun('at-start', 'sync', PERIOD_START, 'succeeded', 100);
    await insertRun('inside', 'sync', '2025-01-01T12:00:00.000Z', 'failed', 300);
    await insertRun('last-moment', 'cleanup', '2025-01-02T06:59:59.999Z', 'succeeded', 50);
    await insertRun('skipped', 'cleanup', '2025-01-01T13:00:00.000Z', 'skipped', 0);
    await insertRun('timed-out', 'sync', '2025-01-01T14:00:00.000Z', 'timed_out', 250);
    await insertRun('at-end', 'sync', PERIOD_END, 'failed', 777);
    await insertRun('after', 'other', '2025-01-03T00:00:00.000Z', 'succeeded', 5);

    const { content } = await generate();
    const report = content as OperationsReport;

    expect(report.period).toEqual({ start: PERIOD_START, end: PERIOD_END });
    expect(report.jobs).toEqual([
      {
        job: 'cleanup',
        runs: statusCounts({ succeeded: 1, skipped: 1, total: 2 }),
        durationMs: { p50: 50, p95: 50, max: 50 },
        failures: { total: 0, recent: [] },
      },
      {
        job: 'sync',
        runs: statusCounts({ succeeded: 1, failed: 1, timed_out: 1, total: 3 }),
        // Durations [100, 250, 300]: p50 rank 2 -> 250, p95 rank 3 -> 300.
        durationMs: { p50: 250, p95: 300, max: 300 },
        failures: {
          total: 2,
          recent: [
            {
              runId: 'timed-out',
              status: 'timed_out',
              startedAt: '2025-01-01T14:00:00.000Z',
              error: 'timed-out failed',
            },
            { runId: 'inside', status: 'failed', startedAt: '2025-01-01T12:00:00.000Z', error: 'inside failed' },
          ],
        },
      },
    ]);
  });

  it('lists the 20 most recent failures of a job, newest first, and counts them all', async () => {
    for (let minute = 0; minute < 25; minute += 1) {
      const startedAt = new Date(Date.parse(PERIOD_START) + minute * 60_000).toISOString();
      await insertRun(`failure-${String(minute).padStart(2, '0')}`, 'sync', startedAt, 'failed', 10);
    }

    const [sync] = ((await generate()).content as OperationsReport).jobs;

    expect(sync.failures.total).toBe(25);
    expect(sync.failures.recent.map((failure) => failure.runId)).toEqual(
      Array.from({ length: 20 }, (_, index) => `failure-${String(24 - index).padStart(2, '0')}`),
    );
  });

  it('counts only the events published within [start, end), by topic', async () => {
    await insertEvent('jobs', '2025-01-01T06:59:59.999Z');
    await insertEvent('jobs', PERIOD_START);
    await insertEvent('jobs', '2025-01-01T10:00:00.000Z');
    await insertEvent('jobs', '2025-01-01T11:00:00.000Z');
    await insertEvent('reports', '2025-01-01T07:00:00.001Z');
    await insertEvent('system', '2025-01-02T06:59:59.999Z');
    await insertEvent('system', PERIOD_END);
    await insertEvent('reports', '2025-01-05T00:00:00.000Z');

    const report = (await generate()).content as OperationsReport;

    expect(report.events).toEqual({ total: 5, byTopic: { jobs: 3, reports: 1, system: 1 } });
  });

  it('reports an empty period', async () => {
    await insertRun('after', 'sync', '2025-01-03T00:00:00.000Z', 'succeeded', 5);
    await insertEvent('jobs', '2025-01-03T00:00:00.000Z');

    const report = (await generate()).content as OperationsReport;

    expect(report.jobs).toEqual([]);
    expect(report.events).toEqual({ total: 0, byTopic: {} });
    expect(report.clients).toEqual({ peakConnected: 0 });
  });

  it('reports the peak of connected clients, taking it once per report', async () => {
    peaks = [3, 1];

    const first = (await generate()).content as OperationsReport;
    expect(first.clients).toEqual({ peakConnected: 3 });

    const second = (await generate()).content as OperationsReport;
    expect(second.clients).toEqual({ peakConnected: 1 });
    expect(peaks).toEqual([]);
  });

  it('titles the report with its period', async () => {
    const { title } = await generate();

    expect(title).toContain('Daily operations report');
    expect(title).toContain(PERIOD_START);
    expect(title).toContain(PERIOD_END);
  });
});
