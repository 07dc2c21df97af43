import type { Kysely } from 'kysely';
import type { Clock } from '../../src/common/clock.js';
import { EventsRepository } from '../../src/database/events.repository.js';
import { JobStateRepository } from '../../src/database/job-state.repository.js';
import { ReportsRepository } from '../../src/database/reports.repository.js';
import { RunsRepository } from '../../src/database/runs.repository.js';
import type { Database } from '../../src/database/schema.js';
import { EventFeed } from '../../src/notifier/event-feed.js';
import type { JobpulseEvent } from '../../src/notifier/events.js';
import { NotifierService } from '../../src/notifier/notifier.service.js';
import { NO_REPLICAS } from '../../src/notifier/replica-hints.js';
import { createTestDatabase } from './database.js';

/** A migrated in-memory database, its repositories, a notifier whose events are recorded in `published`, and its feed. */
export interface TestStorage {
  db: Kysely<Database>;
  runs: RunsRepository;
  reports: ReportsRepository;
  events: EventsRepository;
  jobStates: JobStateRepository;
  notifier: NotifierService;
  /** The stored events as the gateway and `GET /api/events` read them. */
  feed: EventFeed;
  /** Every event the notifier published, in order. */
  published: JobpulseEvent[];
  /** Destroys the database (once; later calls wait for the same destroy), for specs that want storage to fail. */
  destroyDb(): Promise<void>;
  /** For `afterEach`: stops recording events and destroys the database unless `destroyDb` already did. */
  close(): Promise<void>;
}

/** For specs: a fresh {@link TestStorage} on `clock`; call `close()` in `afterEach`. */
export async function createTestStorage(clock: Clock): Promise<TestStorage> {
  const db = await createTestDatabase();
  const events = new EventsRepository(db);
  const notifier = new NotifierService(events, clock, NO_REPLICAS);
  const published: JobpulseEvent[] = [];
  const subscription = notifier.events$.subscribe((event) => published.push(event));
  let destroyed: Promise<void> | undefined;
  const destroyDb = (): Promise<void> => (destroyed ??= db.destroy());
  return {
    db,
    runs: new RunsRepository(db),
    reports: new ReportsRepository(db),
    events,
    jobStates: new JobStateRepository(db),
    notifier,
    feed: new EventFeed(events, notifier, NO_REPLICAS),
    published,
    destroyDb,
    close: async () => {
      subscription.unsubscribe();
      await destroyDb();
    },
  };
}
