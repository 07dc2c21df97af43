import { Logger, NotFoundException } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { Kysely } from 'kysely';
import { TestClock } from '../../support/clock.js';
import type { EventsRepository } from '../../../src/database/events.repository.js';
import type { ReportsRepository } from '../../../src/database/reports.repository.js';
import { RunsRepository } from '../../../src/database/runs.repository.js';
import type { Database } from '../../../src/database/schema.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { ClientPresence } from '../../../src/gateway/client-presence.js';
import type { JobpulseEvent } from '../../../src/notifier/events.js';
import type { NotifierService } from '../../../src/notifier/notifier.service.js';
import { OperationsReportGenerator } from '../../../src/reports/operations-report.generator.js';
import type { GeneratedReport, IReportGenerator, ReportRequest } from '../../../src/reports/report-generator.js';
import { ReportsService } from '../../../src/reports/reports.service.js';

/** Records every request and answers with a document naming the request's period. */
class RecordingGenerator implements IReportGenerator {
  readonly requests: ReportRequest[] = [];
  onGenerate: () => void = () => {};

  generate(request: ReportRequest): Promise<GeneratedReport> {
    this.requests.push(request);
    this.onGenerate();
    return Promise.resolve({
      title: `custom report ${this.requests.length}`,
      content: { from: request.periodStart.toISOString(), to: request.periodEnd.toISOString(), custom: true },
    });
  }
}

const NOW = '2025-03-10T07:00:00.000Z';

describe('ReportsService', () => {
  let db: Kysely<Database>;
  let reports: ReportsRepository;
  let events: EventsRepository;
  let clock: TestClock;
  let notifier: NotifierService;
  let generator: RecordingGenerator;
  let service: ReportsService;
  let published: JobpulseEvent[];
  let storage: TestStorage;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new TestClock(new Date(NOW));
    storage = await createTestStorage(clock);
    ({ db, reports, events, notifier, published } = storage);
    generator = new RecordingGenerator();
    service = new ReportsService(reports, notifier, generator, clock);
  });

  afterEach(async () => {
    await storage.close();
  });

  const signal = () => new AbortController().signal;

  describe('createDailyReport', () => {
    it('covers the last 24 hours ending now when there is no previous report', async () => {
      const report = await service.createDailyReport('run-1', signal());

      expect(report.periodStart).toBe('2025-03-09T07:00:00.000Z');
      expect(report.periodEnd).toBe(NOW);
      expect(generator.requests[0].periodStart.toISOString()).toBe('2025-03-09T07:00:00.000Z');
      expect(generator.requests[0].periodEnd.toISOString()).toBe(NOW);
    });

    it('starts the next report where the previous one ended', async () => {
      const first = await service.createDailyReport('run-1', signal());
      clock.set('2025-03-11T07:00:02.500Z');

      const second = await service.createDailyReport('run-2', signal());

      expect(second.periodStart).toBe(first.periodEnd);
      expect(second.periodStart).toBe(NOW);
      expect(second.periodEnd).toBe('2025-03-11T07:00:02.500Z');
      expect(generator.requests[1].periodStart.toISOString()).toBe(NOW);
    });

    it('starts at the previous period end, not at when the previous report was stored', async () => {
      // The first report takes 5 s to generate, so it is created after its period ends.
      generator.onGenerate = () => clock.advance(5000);
      const first = await service.createDailyReport('run-1', signal());
      expect(first.periodEnd).toBe(NOW);
      expect(first.createdAt).toBe('2025-03-10T07:00:05.000Z');

      generator.onGenerate = () => {};
      clock.set('2025-03-11T07:00:00.000Z');
      const second = await service.createDailyReport('run-2', signal());

      expect(second.periodStart).toBe(NOW);
    });

    it('stores the report under a version 7 id with its run, title, period and content', async () => {
      const report = await service.createDailyReport('run-1', signal());

      expect(isUUID(report.id, '7')).toBe(true);

      const stored = await reports.findById(report.id);
      expect(stored).toEqual({
        id: report.id,
        runId: 'run-1',
        title: 'custom report 1',
        periodStart: '2025-03-09T07:00:00.000Z',
        periodEnd: NOW,
        createdAt: NOW,
        content: { from: '2025-03-09T07:00:00.000Z', to: NOW, custom: true },
      });
      expect(report).toEqual(stored);
      await expect(service.get(report.id)).resolves.toEqual(stored);
    });

    it('publishes report.created with the report id and run id', async () => {
      const report = await service.createDailyReport('run-7', signal());

      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        topic: 'reports',
        type: 'report.created',
        data: {
          reportId: report.id,
          runId: 'run-7',
          title: 'custom report 1',
          periodStart: '2025-03-09T07:00:00.000Z',
          periodEnd: NOW,
        },
      });
      expect((await events.listAfter(0, 10)).map((event) => event.type)).toEqual(['report.created']);
    });

    it('uses the generator it was given, passing the runId, period and signal', async () => {
      const controller = new AbortController();

      await service.createDailyReport('run-42', controller.signal);

      expect(generator.requests).toHaveLength(1);
      const [request] = generator.requests;
      expect(request.runId).toBe('run-42');
      expect(request.periodStart).toEqual(new Date('2025-03-09T07:00:00.000Z'));
      expect(request.periodEnd).toEqual(new Date(NOW));
      expect(request.signal).toBe(controller.signal);
    });

    it('stores nothing and publishes nothing when the generator fails', async () => {
      const failing: IReportGenerator = { generate: () => Promise.reject(new Error('generator broke')) };
      service = new ReportsService(reports, notifier, failing, clock);

      await expect(service.createDailyReport('run-1', signal())).rejects.toThrow('generator broke');

      expect(await reports.list({ limit: 10 })).toEqual([]);
      expect(published).toEqual([]);
    });

    it('works with the default operations report generator', async () => {
      const presence = new ClientPresence();
      presence.connected();
      const operations = new OperationsReportGenerator(new RunsRepository(db), events, presence);
      service = new ReportsService(reports, notifier, operations, clock);

      const report = await service.createDailyReport('run-1', signal());

      expect(report.content).toMatchObject({
        period: { start: '2025-03-09T07:00:00.000Z', end: NOW },
        jobs: [],
        clients: { peakConnected: 1 },
      });
      expect((await reports.findById(report.id))?.content).toEqual(report.content);
    });
  });

  describe('list and get', () => {
    it('lists reports newest first', async () => {
      const first = await service.createDailyReport('run-1', signal());
      clock.advance(60_000);
      const second = await service.createDailyReport('run-2', signal());

      expect((await service.list({ limit: 10 })).map((report) => report.id)).toEqual([second.id, first.id]);
    });

    it('throws NotFoundException for an unknown id', async () => {
      await expect(service.get('missing')).rejects.toBeInstanceOf(NotFoundException);
    });
  });
});
