// Fills a migrated SQLite file with finished runs, straight into the table (as a busy history
// would have left them), in multi-row inserts inside one transaction: a million in seconds.
// Runs are spread over `jobs` jobs ticking once a second each, ending at `lastFireMs`: 97% succeeded,
// 2% failed, 1% timed out, 5 to 504 ms long. Every seeded run has node `seed`.
// The table's indexes are dropped while it fills and built again after (sorting once is far faster
// than a million random inserts into each), and ids are version 7 UUIDs made at each run's start, as
// the runner makes them (with the build's own TimeOrderedIds), so that the primary key grows at its
// end: the file ends up as a busy history leaves it.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD } from './processes.mjs';

const { TimeOrderedIds } = await import(pathToFileURL(join(BUILD, 'common/time-ordered-id.js')).href);

const ROWS_PER_INSERT = 500;
const KNOWN = [
  'id',
  'job',
  'trigger',
  'status',
  'scheduled_for',
  'started_at',
  'finished_at',
  'duration_ms',
  'error',
  'attempt',
  'max_attempts',
  'retry_of',
  'lease_expires_at',
  'node',
  'claim_key',
];

export function seedRuns(file, { count, jobs, lastFireMs }) {
  const db = new Database(file);
  try {
    const columns = db.pragma('table_info(runs)');
    const unknown = columns.filter(
      (column) => !KNOWN.includes(column.name) && column.notnull && column.dflt_value === null,
    );
    if (unknown.length > 0)
      throw new Error(`seed-runs: no value for runs.${unknown.map((c) => c.name).join(', runs.')}`);
    const names = KNOWN.filter((name) => columns.some((column) => column.name === name));
    const row = `(${names.map(() => '?').join(', ')})`;
    const insertMany = db.prepare(
      `insert into runs (${names.join(', ')}) values ${Array(ROWS_PER_INSERT).fill(row).join(', ')}`,
    );
    const insertOne = db.prepare(`insert into runs (${names.join(', ')}) values ${row}`);
    const ticks = Math.ceil(count / jobs.length);
    const firstFireMs = lastFireMs - (ticks - 1) * 1000;
    let startedMs = 0;
    const ids = new TimeOrderedIds(() => startedMs);
    const valuesOf = (i) => {
      const job = jobs[i % jobs.length];
      const fire = new Date(firstFireMs + Math.floor(i / jobs.length) * 1000);
      const started = new Date(fire.getTime() + (i % 5));
      startedMs = started.getTime();
      const duration = 5 + ((i * 7919) % 500);
      const kind = i % 100;
      const status = kind < 97 ? 'succeeded' : kind < 99 ? 'failed' : 'timed_out';
      const values = {
        id: ids.next(),
        job,
        trigger: 'schedule',
        status,
        scheduled_for: fire.toISOString(),
        started_at: started.toISOString(),
        finished_at: new Date(started.getTime() + duration).toISOString(),
        duration_ms: duration,
        error:
          status === 'succeeded'
            ? null
            : status === 'failed'
              ? 'Error: upstream answered 503'
              : 'timed out after 500 ms',
        attempt: 1,
        max_attempts: 1,
        retry_of: null,
        lease_expires_at: null,
        node: 'seed',
        claim_key: `${job}@${fire.toISOString()}`,
      };
      return names.map((name) => values[name]);
    };
    // The service opens it in WAL mode again; a rollback journal spares writing every page twice.
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const indexes = db
      .prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'runs' and sql is not null")
      .all();
    db.transaction(() => {
      for (const { name } of indexes) db.exec(`drop index "${name}"`);
      let i = 0;
      for (; i + ROWS_PER_INSERT <= count; i += ROWS_PER_INSERT) {
        const values = [];
        for (let j = i; j < i + ROWS_PER_INSERT; j++) values.push(...valuesOf(j));
        insertMany.run(values);
      }
      for (; i < count; i++) insertOne.run(valuesOf(i));
      for (const { sql } of indexes) db.exec(sql);
    })();
  } finally {
    db.close();
  }
}

/** How many seeded runs are left in the file. */
export function seededRunsLeft(file) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("select count(*) as count from runs where node = 'seed'").get().count;
  } finally {
    db.close();
  }
}
