// The figures as table rows, each beside its baseline and floor, with the issue's target and
// whether it is met. Ratios are jobpulse ÷ baseline, both measured in the same run.
import { check, round } from './stats.mjs';

const KIB = 1024;

const ms = (value) =>
  value === null || value === undefined ? '—' : value < 100 ? `${round(value, 1)} ms` : `${Math.round(value)} ms`;
const count = (value) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US'));
const ratioOf = (value, baseline) =>
  Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0 ? value / baseline : null;
const times = (ratio) => (ratio === null ? '—' : `${round(ratio)}×`);

function row(figure, { jobpulse, baseline = '—', floor = '—', ratio = null, target = '—', result = '—' }) {
  return { figure, jobpulse, baseline, floor, ratio: times(ratio), target, result };
}

/** `value` against a target (see `check`), shown as `shown`. */
function against(value, limits, shown) {
  return { target: shown, result: check(value, limits) };
}

export function rowsOf(results) {
  const rows = [];
  for (const { clients, jobpulse, socketIo, ws } of results.fanout ?? []) {
    for (const [label, key, limit] of [
      ['p50', 'median', 1.0],
      ['p99', 'p99', 1.1],
    ]) {
      const ratio = ratioOf(jobpulse[key], socketIo[key]);
      rows.push(
        row(`1. fan-out to ${count(clients)} clients, ${label}`, {
          jobpulse: ms(jobpulse[key]),
          baseline: ms(socketIo[key]),
          floor: ms(ws[key]),
          ratio,
          ...against(ratio, { atMost: limit }, `≤ ${limit.toFixed(2)}×`),
        }),
      );
    }
  }
  const throughput = results.throughput;
  if (throughput) {
    const ratio = ratioOf(throughput.jobpulse, throughput.socketIo);
    rows.push(
      row(
        `2. throughput to ${count(throughput.clients)} clients, events/s each (${throughput.seconds} s, lost ${throughput.lost})`,
        {
          jobpulse: count(throughput.jobpulse),
          baseline: count(throughput.socketIo),
          floor: count(throughput.ws),
          ratio,
          ...against(ratio, { atLeast: 0.9 }, '≥ 0.90×, none lost'),
        },
      ),
    );
  }
  const memory = results.memory;
  if (memory) {
    const ratio = ratioOf(memory.jobpulse, memory.socketIo);
    const kib = (value) => (value === null ? '—' : `${round(value / KIB, 1)} KiB`);
    rows.push(
      row(`3. resident memory per idle subscribed client, ${count(memory.clients)} clients`, {
        jobpulse: kib(memory.jobpulse),
        baseline: kib(memory.socketIo),
        floor: kib(memory.ws),
        ratio,
        ...against(ratio, { atMost: 1.1 }, '≤ 1.10×'),
      }),
    );
  }
  for (const figures of Object.values(results.rest ?? {})) {
    const ratio = ratioOf(figures.jobpulse, figures.NestJS);
    rows.push(
      row(`4. REST \`GET ${figures.path}\`, requests/s`, {
        jobpulse: count(figures.jobpulse),
        baseline: count(figures.NestJS),
        floor: count(figures.Express),
        ratio,
        ...against(ratio, { atLeast: 0.8 }, '≥ 0.80×'),
      }),
    );
  }
  const cluster = results.cluster;
  for (const [label, figures, limit] of [
    ['SQLite, 1 replica', results.lag, 20],
    ['PostgreSQL, 3 replicas', cluster && (cluster.skipped ? cluster : cluster.lag), 50],
  ]) {
    if (!figures) continue;
    const figure = `5. schedule lag, every-second job, ${figures.ticks ?? ''} ticks, ${label}: p50 / p99`;
    if (figures.skipped)
      rows.push(row(figure, { jobpulse: 'skipped', target: `p99 < ${limit} ms`, result: 'skipped' }));
    else {
      rows.push(
        row(figure, {
          jobpulse: `${ms(figures.median)} / ${ms(figures.p99)}`,
          ...against(figures.p99, { below: limit }, `p99 < ${limit} ms`),
        }),
      );
    }
  }
  const big = results['big-database'];
  if (big) {
    const runs = count(big.runs);
    rows.push(
      row('6. start-up to readiness, empty database', {
        jobpulse: ms(big.startUp.empty),
        baseline: ms(big.startUp.bareNest),
      }),
    );
    rows.push(
      row(`6. start-up to readiness, ${runs} runs`, {
        jobpulse: ms(big.startUp.seeded),
        baseline: ms(big.startUp.bareNest),
        ...against(big.startUp.seeded, { below: 1500 }, '< 1.5 s'),
      }),
    );
    for (const [label, figures] of [
      ['first page', big.listing.firstPage],
      ['a page halfway back', big.listing.middlePage],
    ]) {
      rows.push(
        row(`6. runs listing at ${runs} runs, ${label} (50 runs): p50 / p99`, {
          jobpulse: `${ms(figures.median)} / ${ms(figures.p99)}`,
          ...against(figures.median, { below: 50 }, 'p50 < 50 ms'),
        }),
      );
    }
    rows.push(
      row(`6. \`GET /api/jobs\` at ${runs} runs: p50 / p99`, {
        jobpulse: `${ms(big.listing.jobs.median)} / ${ms(big.listing.jobs.p99)}`,
      }),
    );
    for (const [label, figures, limit] of [
      [`daily report over ${runs} runs`, big.report, 10_000],
      [`cleanup of ${runs} expired runs`, big.cleanup],
    ]) {
      // A report that counted fewer runs than were seeded did not do the work measured.
      const finished = figures.finished && figures.status === 'succeeded' && !(figures.runsCounted < big.runs);
      const duration = figures.finished ? ms(figures.durationMs) : `> ${ms(figures.capMs)} (stopped)`;
      const left = figures.expiredRunsLeft ? `, ${count(figures.expiredRunsLeft)} expired runs left` : '';
      const counted = figures.runsCounted === undefined ? '' : `, ${count(figures.runsCounted)} runs counted`;
      rows.push(
        row(`6. ${label}: duration`, {
          jobpulse: `${duration}${figures.status && figures.status !== 'succeeded' ? ` (${figures.status})` : ''}${counted}${left}`,
          ...(limit
            ? against(finished ? figures.durationMs : null, { below: limit }, `< ${limit / 1000} s`)
            : { target: 'all removed', result: finished && !figures.expiredRunsLeft ? 'pass' : 'miss' }),
        }),
      );
      const longest = Math.max(figures.healthMaxMs ?? 0, figures.lagMaxMs ?? 0);
      rows.push(
        row(`6. ${label}: event loop's longest delay (\`/health/live\` / metrics)`, {
          jobpulse: `${ms(figures.healthMaxMs)} / ${ms(figures.lagMaxMs)}`,
          ...against(longest, { below: 100 }, '< 100 ms'),
        }),
      );
    }
  }
  if (cluster) {
    const cross = cluster.crossReplica;
    const figure = `7. cross-replica (PostgreSQL), trigger on A → event held by ${cross?.clients ?? 100} clients on B: p50 / p99`;
    if (cluster.skipped) rows.push(row(figure, { jobpulse: 'skipped', result: 'skipped' }));
    else {
      rows.push(
        row(figure, {
          jobpulse: `${ms(cross.cross.median)} / ${ms(cross.cross.p99)}`,
          baseline: `${ms(cross.local.median)} / ${ms(cross.local.p99)} (triggered on B)`,
          ratio: ratioOf(cross.cross.median, cross.local.median),
        }),
      );
    }
  }
  return rows;
}

export function markdownTable(rows) {
  const header = ['figure', 'jobpulse', 'baseline', 'floor', 'ratio', 'target', 'result'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${header.map((key) => r[key]).join(' | ')} |`),
  ];
  return lines.join('\n');
}
