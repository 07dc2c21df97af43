import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, type RawBuilder, type Transaction } from 'kysely';
import type { Page } from '../common/page.js';
import { CompiledQueries } from './compiled-queries.js';
import { DATABASE, isPostgres } from './database.js';
import {
  FAILED_STATUSES,
  RUN_STATUSES,
  type Database,
  type RunRow,
  type RunStatus,
  type RunTrigger,
} from './schema.js';
import { SLICE_ENTRIES, sumInSlices, yieldToEventLoop } from './slices.js';

/** A run as the API serves it and the runner records it. */
export interface Run {
  id: string;
  job: string;
  trigger: RunTrigger;
  status: RunStatus;
  scheduledFor: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** 1 for the first try; each automatic retry is a run of its own with the next number. */
  attempt: number;
  maxAttempts: number;
  /** The run this one retries (the previous attempt, or the run retried by hand). */
  retryOf: string | null;
  /** The replica that ran (or queued) it: its NODE_ID. */
  node: string | null;
}

export interface InsertOptions {
  /** Set while the run is running or queued: past it, the run counts as abandoned unless renewed. */
  leaseUntil?: string | null;
  /** Makes the insert a claim: a second run with the same key, from any replica, is not inserted. */
  claimKey?: string | null;
  /** A start-up run: not inserted if the job already has one that started at or after this instant. */
  noStartupSince?: string;
}

/**
 * Why a run was not inserted: its claim was taken (another replica recorded
 * this tick, or a start-up run), or the job already has a running run (or,
 * for a queued one, a queued run) somewhere in the cluster.
 */
export type InsertConflict = 'claimed' | 'busy';

export type RunOutcome = Pick<Run, 'status' | 'finishedAt' | 'durationMs' | 'error'>;

/** What a summary of a period's runs computes besides the counts. */
export interface RunsSummaryOptions {
  /** Percentiles (0 to 100) of the durations, by nearest rank: the value at or above that share of them. */
  percentiles: number[];
  /** How many of each job's most recent failed runs to list. */
  recentFailures: number;
}

/** One job's runs that started in a period, as counted by the database. */
export interface JobRunsSummary {
  job: string;
  /** How many runs of each status; a status without runs is left out. */
  runs: Partial<Record<RunStatus, number>>;
  /**
   * Over the runs that ended after doing (or failing) their work with a
   * duration (succeeded, failed, timed out, interrupted; an abandoned run has
   * none): the percentiles asked for, in their order, and the longest; null
   * when no run qualifies.
   */
  durationMs: { percentiles: number[]; max: number } | null;
  /** The runs of a FAILED_STATUSES status: how many, and the most recent ones, newest first. */
  failures: { total: number; recent: Run[] };
}

/** The statuses of runs whose durations a summary takes: they ended after doing (or failing) their work. */
const ENDED_STATUSES: readonly RunStatus[] = ['succeeded', ...FAILED_STATUSES];

/** The ascending or descending order of a walk along the durations. */
type Direction = 'asc' | 'desc';

interface RunCount {
  job: string;
  status: RunStatus;
  runs: number;
  /** Those with a duration. */
  timed: number;
}

@Injectable()
export class RunsRepository {
  /** The catalogue's queries (GET /api/jobs), for the same jobs on every request. */
  private readonly compiled = new CompiledQueries();

  constructor(@Inject(DATABASE) private readonly db: Kysely<Database>) {}

  /**
   * Inserts the run unless that conflicts with another replica's: the
   * database's unique indexes decide (one claim per key, one running and one
   * queued run per job), so replicas racing for the same tick cannot both win.
   */
  async insert(run: Run, options: InsertOptions = {}): Promise<InsertConflict | undefined> {
    if (options.noStartupSince === undefined) return this.insertWith(this.db, run, options);
    const since = options.noStartupSince;
    return this.db.transaction().execute(async (trx) => {
      // Serializes replicas starting together; SQLite's single connection already does.
      if (isPostgres(this.db)) await sql`select pg_advisory_xact_lock(hashtext(${`startup:${run.job}`}))`.execute(trx);
      const recent = await trx
        .selectFrom('runs')
        .select('id')
        .where('job', '=', run.job)
        .where('trigger', '=', 'startup')
        .where('started_at', '>=', since)
        .executeTakeFirst();
      return recent ? 'claimed' : this.insertWith(trx, run, options);
    });
  }

  private async insertWith(
    db: Kysely<Database> | Transaction<Database>,
    run: Run,
    { leaseUntil = null, claimKey = null }: InsertOptions,
  ): Promise<InsertConflict | undefined> {
    const result = await db
      .insertInto('runs')
      .values({
        id: run.id,
        job: run.job,
        trigger: run.trigger,
        status: run.status,
        scheduled_for: run.scheduledFor,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        duration_ms: run.durationMs,
        error: run.error,
        attempt: run.attempt,
        max_attempts: run.maxAttempts,
        retry_of: run.retryOf,
        lease_expires_at: leaseUntil,
        node: run.node,
        claim_key: claimKey,
      })
      .onConflict((conflict) => conflict.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return undefined;
    if (claimKey !== null) {
      const claimed = await db.selectFrom('runs').select('id').where('claim_key', '=', claimKey).executeTakeFirst();
      if (claimed) return 'claimed';
    }
    return 'busy';
  }

  /**
   * A queued run begins on `node`, unless a run of its job is running (the
   * one-running-per-job index refuses it): resolves `busy` then, or `gone`
   * if the run is no longer queued (its lease expired and it was abandoned).
   */
  async begin(run: Run, leaseUntil: string): Promise<'begun' | 'busy' | 'gone'> {
    try {
      const result = await this.db
        .updateTable('runs')
        .set({ status: 'running', started_at: run.startedAt, lease_expires_at: leaseUntil, node: run.node })
        .where('id', '=', run.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? 'begun' : 'gone';
    } catch (error) {
      if (isUniqueViolation(error)) return 'busy';
      throw error;
    }
  }

  /** The id of the job's running run, on any replica. */
  async runningRunOf(job: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('job', '=', job)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return row?.id;
  }

  /** The id of the running run of each of `jobs` that has one, on any replica, by job. */
  async runningRunsOf(jobs: string[]): Promise<Map<string, string>> {
    if (jobs.length === 0) return new Map();
    const query = this.compiled.of(`runningRunsOf ${JSON.stringify(jobs)}`, () =>
      this.db.selectFrom('runs').select(['job', 'id']).where('job', 'in', jobs).where('status', '=', 'running'),
    );
    const { rows } = await this.db.executeQuery(query);
    return new Map(rows.map((row) => [row.job, row.id]));
  }

  /**
   * Renews the leases of the running and queued runs among `ids`, and returns
   * the ids of those another replica has meanwhile marked abandoned (their
   * lease expired while this process could not reach the database).
   */
  async renewLeases(ids: string[], leaseUntil: string): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseUntil })
      .where('id', 'in', ids)
      .where('status', 'in', ['running', 'queued'])
      .execute();
    const lost = await this.db
      .selectFrom('runs')
      .select('id')
      .where('id', 'in', ids)
      .where('status', '=', 'abandoned')
      .execute();
    return lost.map((row) => row.id);
  }

  /**
   * Records how a running or queued run ended; resolves false, recording
   * nothing, if the run no longer is (another replica marked it abandoned).
   */
  async finish(id: string, outcome: RunOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({
        status: outcome.status,
        finished_at: outcome.finishedAt,
        duration_ms: outcome.durationMs,
        error: outcome.error,
        lease_expires_at: null,
      })
      .where('id', '=', id)
      .where('status', 'in', ['running', 'queued'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Marks running and queued runs whose lease expired before `now` as
   * abandoned (the process holding them stopped) and returns them;
   * `activeIds` are this process's own runs, which are never taken.
   */
  async abandonExpired(now: string, activeIds: string[]): Promise<Run[]> {
    let query = this.db
      .updateTable('runs')
      .set({
        status: 'abandoned',
        finished_at: now,
        error: 'lease expired: the process running it stopped',
        lease_expires_at: null,
      })
      .where('status', 'in', ['running', 'queued'])
      .where('lease_expires_at', '<', now);
    if (activeIds.length > 0) query = query.where('id', 'not in', activeIds);
    const rows = await query.returningAll().execute();
    return rows.map(toRun);
  }

  /**
   * Whether a tick (or its catch-up) was already run, skipped or queued for this fire time: its first
   * attempt holds the claim `<job>@<fire time>`, found through the claim's unique index however many
   * runs the job has.
   */
  async existsForFireTime(job: string, scheduledFor: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('claim_key', '=', `${job}@${scheduledFor}`)
      .executeTakeFirst();
    return row !== undefined;
  }

  async findById(id: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row);
  }

  /** Newest first. */
  async listByJob(job: string, page: Page): Promise<Run[]> {
    let query = this.db.selectFrom('runs').selectAll().where('job', '=', job);
    if (page.before) query = query.where('started_at', '<', page.before);
    const rows = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toRun);
  }

  /**
   * The latest run of each of `jobs` that has runs, by job: the first run listByJob lists, found in
   * one statement, one sub-select per job. Each takes the greatest id among the runs that started
   * last, two look-ups along (job, started_at): ordering them by id instead would sort, which SQLite
   * does in a temporary tree per job that costs several times the look-ups.
   */
  async latestOf(jobs: string[]): Promise<Map<string, Run>> {
    if (jobs.length === 0) return new Map();
    const { fn } = this.db;
    const latestId = (job: string) =>
      this.db
        .selectFrom('runs')
        .select(fn.max<string>('id').as('id'))
        .where('job', '=', job)
        .where(
          'started_at',
          '=',
          this.db.selectFrom('runs').select(fn.max<string>('started_at').as('started_at')).where('job', '=', job),
        );
    const query = this.compiled.of(`latestOf ${JSON.stringify(jobs)}`, () =>
      this.db.selectFrom('runs').selectAll().where('id', 'in', jobs.map(latestId)),
    );
    const { rows } = await this.db.executeQuery(query);
    return new Map(rows.map((row) => [row.job, toRun(row)]));
  }

  /**
   * Each job with runs started in [from, to), by name, and what its runs
   * add up to: counted by the database, never loaded. On PostgreSQL, in
   * grouped queries (percentiles by `percentile_disc`); on SQLite, in short
   * statements along indexes (see SLICE_ENTRIES), with a turn of the event
   * loop between them, because better-sqlite3 holds the loop while each runs.
   */
  async summarizeStartedBetween(from: string, to: string, options: RunsSummaryOptions): Promise<JobRunsSummary[]> {
    const postgres = isPostgres(this.db);
    const counts = postgres ? await this.countGrouped(from, to) : await this.countInSlices(from, to);
    const durations = postgres ? await this.durationPercentilesGrouped(from, to, options.percentiles) : undefined;
    const summaries: JobRunsSummary[] = [];
    for (const job of [...new Set(counts.map((count) => count.job))].sort()) {
      const ofJob = counts.filter((count) => count.job === job);
      const countOf = (statuses: readonly RunStatus[], field: 'runs' | 'timed') =>
        ofJob.filter((count) => statuses.includes(count.status)).reduce((sum, count) => sum + count[field], 0);
      const timed = countOf(ENDED_STATUSES, 'timed');
      const failedStatuses = FAILED_STATUSES.filter((status) => countOf([status], 'runs') > 0);
      summaries.push({
        job,
        runs: Object.fromEntries(ofJob.map((count) => [count.status, count.runs])),
        durationMs: durations
          ? (durations.get(job) ?? null)
          : await this.durationPercentilesAlongIndex(job, from, to, timed, options.percentiles),
        failures: {
          total: countOf(FAILED_STATUSES, 'runs'),
          recent: await this.recentRuns(job, failedStatuses, from, to, options.recentFailures),
        },
      });
    }
    return summaries;
  }

  private async countGrouped(from: string, to: string): Promise<RunCount[]> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['job', 'status'])
      .select((eb) => [eb.fn.countAll<number>().as('runs'), eb.fn.count<number>('duration_ms').as('timed')])
      .where('started_at', '>=', from)
      .where('started_at', '<', to)
      .groupBy(['job', 'status'])
      .execute();
    return rows.map((row) => ({ ...row, runs: Number(row.runs), timed: Number(row.timed) }));
  }

  /** The counts of each job (found by a skip along the index) and status, each in slices of its index range. */
  private async countInSlices(from: string, to: string): Promise<RunCount[]> {
    const counts: RunCount[] = [];
    for (let job = await this.jobAfter(''); job !== undefined; job = await this.jobAfter(job)) {
      for (const status of RUN_STATUSES) {
        const ofStatus = (start: string, end: string) =>
          sql`job = ${job} and status = ${status} and started_at >= ${start} and started_at < ${end}`;
        const { runs, timed } = await sumInSlices(from, to, {
          boundaryAfter: (start, end) =>
            this.valueOf<string>(sql`
              select started_at as value from ${this.runsAlong('runs_job_status_started_at')}
              where ${ofStatus(start, end)} order by started_at limit 1 offset ${SLICE_ENTRIES}`),
          totalsIn: async (start, end) => {
            const { rows } = await sql<{ runs: number; timed: number }>`
              select count(*) as runs, count(duration_ms) as timed
              from ${this.runsAlong('runs_job_status_started_at')} where ${ofStatus(start, end)}`.execute(this.db);
            return { runs: Number(rows[0].runs), timed: Number(rows[0].timed) };
          },
        });
        if (runs > 0) counts.push({ job, status, runs, timed });
      }
    }
    return counts;
  }

  /** The first job name after `name` among all runs. */
  private async jobAfter(name: string): Promise<string | undefined> {
    await yieldToEventLoop();
    const row = await this.db
      .selectFrom('runs')
      .select('job')
      .where('job', '>', name)
      .orderBy('job')
      .limit(1)
      .executeTakeFirst();
    return row?.job;
  }

  private async durationPercentilesGrouped(
    from: string,
    to: string,
    percentiles: number[],
  ): Promise<Map<string, JobRunsSummary['durationMs']>> {
    const fractions = percentiles.map((percentile) => percentile / 100);
    // percentile_disc, unlike percentile_cont, takes a duration some run took: the nearest rank, as on SQLite.
    const atPercentiles = sql<(number | string)[]>`
      percentile_disc(cast(${fractions} as double precision[])) within group (order by duration_ms)`;
    const rows = await this.db
      .selectFrom('runs')
      .select((eb) => ['job', atPercentiles.as('percentiles'), eb.fn.max('duration_ms').as('max')])
      .where('started_at', '>=', from)
      .where('started_at', '<', to)
      .where('status', 'in', ENDED_STATUSES)
      .where('duration_ms', 'is not', null)
      .groupBy('job')
      .execute();
    return new Map(rows.map((row) => [row.job, { percentiles: row.percentiles.map(Number), max: Number(row.max) }]));
  }

  /**
   * The nearest-rank percentiles and the longest of the job's `timed` runs
   * that ended in [from, to) with a duration, read along the index of the
   * job's durations: each rank from the nearer end, the longest from the top.
   */
  private async durationPercentilesAlongIndex(
    job: string,
    from: string,
    to: string,
    timed: number,
    percentiles: number[],
  ): Promise<JobRunsSummary['durationMs']> {
    if (timed === 0) return null;
    const ranks = percentiles.map((percentile) => nearestRank(percentile, timed));
    const fromShortest = ranks.filter((rank) => rank <= timed / 2).sort((a, b) => a - b);
    const fromLongest = [1, ...ranks.filter((rank) => rank > timed / 2).map((rank) => timed - rank + 1)];
    const shortest = await this.durationsAtRanks(job, from, to, fromShortest, 'asc');
    const longest = await this.durationsAtRanks(
      job,
      from,
      to,
      [...new Set(fromLongest)].sort((a, b) => a - b),
      'desc',
    );
    const max = longest.get(1);
    if (max === undefined) return null; // every such run was removed while the report read them
    const valueAt = (rank: number) => (rank <= timed / 2 ? shortest.get(rank) : longest.get(timed - rank + 1));
    return { percentiles: ranks.map((rank) => valueAt(rank) ?? max), max };
  }

  /**
   * The durations at `ranks` (ascending, from 1) among the job's runs that
   * ended in [from, to) with one, counted from the shortest (`asc`) or the
   * longest (`desc`). It walks the job's durations in the index, of every
   * period, a slice of SLICE_ENTRIES entries per step: the slice's runs of the
   * period are counted, the run at a rank within it read, and the runs whose
   * duration equals the slice's boundary counted in slices of their own.
   * Ranks past the runs found (some were removed meanwhile) take the last
   * duration found.
   */
  private async durationsAtRanks(
    job: string,
    from: string,
    to: string,
    ranks: number[],
    direction: Direction,
  ): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    const pending = [...ranks];
    let passed = 0;
    let cursor: number | undefined;
    let lastFound: (() => Promise<number | undefined>) | undefined;
    while (pending.length > 0) {
      await yieldToEventLoop();
      const boundary = await this.valueOf<number>(sql`
        select duration_ms as value from ${this.runsAlong('runs_job_duration_ms')}
        where job = ${job} and ${pastCursor(cursor, direction)}
        order by duration_ms ${sql.raw(direction)} limit 1 offset ${SLICE_ENTRIES}`);
      const conditions = [
        sql`job = ${job}`,
        pastCursor(cursor, direction),
        ...(boundary === undefined ? [] : [sql`duration_ms ${sql.raw(direction === 'asc' ? '<' : '>')} ${boundary}`]),
        sql`started_at >= ${from} and started_at < ${to} and status in (${sql.join(ENDED_STATUSES)})`,
      ];
      const inSlice = sql`${this.runsAlong('runs_job_duration_ms')} where ${sql.join(conditions, sql` and `)}`;
      await yieldToEventLoop();
      const sliceCount = (await this.valueOf<number>(sql`select count(*) as value from ${inSlice}`)) ?? 0;
      const nthInSlice = async (nth: number) => {
        await yieldToEventLoop();
        return this.valueOf<number>(sql`
          select duration_ms as value from ${inSlice}
          order by duration_ms ${sql.raw(direction)} limit 1 offset ${nth}`);
      };
      while (pending.length > 0 && pending[0] <= passed + sliceCount) {
        const value = await nthInSlice(pending[0] - passed - 1);
        if (value !== undefined) found.set(pending[0], value);
        pending.shift();
      }
      if (sliceCount > 0) lastFound = () => nthInSlice(sliceCount - 1);
      passed += sliceCount;
      if (boundary === undefined) break;

      const atBoundary = await this.countEndedWithDuration(job, from, to, boundary);
      while (pending.length > 0 && pending[0] <= passed + atBoundary) found.set(pending.shift() as number, boundary);
      if (atBoundary > 0) lastFound = () => Promise.resolve(boundary);
      passed += atBoundary;
      cursor = boundary;
    }
    const last = pending.length > 0 ? await lastFound?.() : undefined;
    if (last !== undefined) for (const rank of pending) found.set(rank, last);
    return found;
  }

  /** How many of the job's runs that ended in [from, to) took exactly `durationMs`, in slices of their index range. */
  private async countEndedWithDuration(job: string, from: string, to: string, durationMs: number): Promise<number> {
    const withDuration = (start: string, end: string) =>
      sql`job = ${job} and duration_ms = ${durationMs} and started_at >= ${start} and started_at < ${end}`;
    const { count } = await sumInSlices(from, to, {
      boundaryAfter: (start, end) =>
        this.valueOf<string>(sql`
          select started_at as value from ${this.runsAlong('runs_job_duration_ms')}
          where ${withDuration(start, end)} order by started_at limit 1 offset ${SLICE_ENTRIES}`),
      totalsIn: async (start, end) => ({
        count:
          (await this.valueOf<number>(sql`
            select count(*) as value from ${this.runsAlong('runs_job_duration_ms')}
            where ${withDuration(start, end)} and status in (${sql.join(ENDED_STATUSES)})`)) ?? 0,
      }),
    });
    return count;
  }

  /** The job's most recent runs of `statuses` started in [from, to), newest first: the newest of each status, merged. */
  private async recentRuns(
    job: string,
    statuses: readonly RunStatus[],
    from: string,
    to: string,
    limit: number,
  ): Promise<Run[]> {
    const recent: Run[] = [];
    for (const status of statuses) {
      await yieldToEventLoop();
      const { rows } = await sql<RunRow>`
        select * from ${this.runsAlong('runs_job_status_started_at')}
        where job = ${job} and status = ${status} and started_at >= ${from} and started_at < ${to}
        order by started_at desc, id desc limit ${limit}`.execute(this.db);
      recent.push(...rows.map(toRun));
    }
    return recent.sort(newestFirst).slice(0, limit);
  }

  /**
   * The runs table, read along `index` on SQLite, whose planner, without
   * statistics, may otherwise take an index that steps through all of a
   * job's runs of the period rather than one slice. PostgreSQL's planner
   * has statistics, and its statements do not hold the event loop.
   */
  private runsAlong(index: string) {
    return isPostgres(this.db) ? sql`runs` : sql`runs indexed by ${sql.id(index)}`;
  }

  /** The `value` of the first row, if any. */
  private async valueOf<T>(query: RawBuilder<{ value: T | null }>): Promise<T | undefined> {
    const { rows } = await query.execute(this.db);
    return rows[0]?.value ?? undefined;
  }
}

/** The durations past `cursor` in `direction`, or all of them with none. */
function pastCursor(cursor: number | undefined, direction: Direction) {
  if (cursor === undefined) return sql`duration_ms is not null`;
  return sql`duration_ms ${sql.raw(direction === 'asc' ? '>' : '<')} ${cursor}`;
}

/** The rank of the p-th percentile among `count` ascending values, from 1: the nearest rank at or above that share. */
function nearestRank(percentile: number, count: number): number {
  return Math.min(count, Math.max(1, Math.ceil((percentile / 100) * count)));
}

function newestFirst(a: Run, b: Run): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    job: row.job,
    trigger: row.trigger,
    status: row.status,
    scheduledFor: row.scheduled_for,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    retryOf: row.retry_of,
    node: row.node,
  };
}

/** PostgreSQL's unique_violation, or SQLite's unique constraint error. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
