// 4. REST: requests per second with autocannon (its own process, 10 connections) on `GET /api/jobs`
// and a runs page (`GET /api/jobs/<name>/runs`, 50 runs), against a bare NestJS route answering the
// same JSON and a bare Express route as the floor, in alternating rounds. jobpulse is the one the
// fan-out and throughput figures used (see startSocketServers), its sockets closed.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NOOP_JOBS } from './bench-jobs.mjs';
import { requestJson, ROOT } from './processes.mjs';
import { median } from './stats.mjs';
import { startBareExpress, startBareNest, trigger } from './targets.mjs';

const CONNECTIONS = 10;
const RUNS_ON_PAGE = 50;
const LOAD = resolve(ROOT, 'bench/rest-load.mjs');

export async function rest(ctx) {
  const rounds = ctx.quick ? 1 : 3;
  const seconds = ctx.quick ? 1 : 10;
  const [{ server: jobpulse }] = await ctx.socketServers();
  const job = NOOP_JOBS[0];
  const routes = { jobs: '/api/jobs', runs: `/api/jobs/${job}/runs?limit=${RUNS_ON_PAGE}` };
  const servers = [];
  try {
    // A full page, whatever ran before.
    const missing = RUNS_ON_PAGE - (await requestJson(jobpulse.url + routes.runs)).length;
    if (missing > 0) {
      await ctx.pool.connect('rest runs', { url: jobpulse.url, count: 1, report: ['job.succeeded'] });
      for (let i = 0; i < missing; i++) {
        await ctx.pool.allHold('rest runs', `job.succeeded:${await trigger(jobpulse.url, job)}`);
      }
      await ctx.pool.close('rest runs');
    }
    const fixture = join(ctx.dir, 'rest-fixture.json');
    writeFileSync(
      fixture,
      JSON.stringify({
        jobs: await requestJson(jobpulse.url + routes.jobs),
        runs: await requestJson(jobpulse.url + routes.runs),
      }),
    );
    servers.push(
      ['jobpulse', jobpulse],
      ['NestJS', await startBareNest(fixture)],
      // The floor only in a full run: a quick one stays short.
      ...(ctx.quick ? [] : [['Express', await startBareExpress(fixture)]]),
    );
    const rates = {};
    for (const route of Object.keys(routes)) rates[route] = Object.fromEntries(servers.map(([target]) => [target, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [route, path] of Object.entries(routes)) {
        for (let j = 0; j < servers.length; j++) {
          const [target, server] = servers[(round + j) % servers.length];
          const result = await load(server.url + path, seconds);
          if (result.non2xx > 0 || result.errors > 0) {
            throw new Error(`${target} ${path}: ${result.non2xx} answers other than 2xx, ${result.errors} errors`);
          }
          rates[route][target].push(result.requestsPerSecond);
          ctx.log(`REST ${route} ${target}: ${Math.round(result.requestsPerSecond)} requests/s`);
        }
      }
    }
    return Object.fromEntries(
      Object.entries(rates).map(([route, byTarget]) => [
        route,
        {
          path: routes[route],
          ...Object.fromEntries(Object.entries(byTarget).map(([target, values]) => [target, median(values)])),
        },
      ]),
    );
  } finally {
    for (const [, server] of servers) if (server !== jobpulse) await server.stop();
  }
}

async function load(url, seconds) {
  const { stdout } = await promisify(execFile)(process.execPath, [LOAD, url, String(seconds), String(CONNECTIONS)]);
  return JSON.parse(stdout);
}
