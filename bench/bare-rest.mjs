// What the bare REST servers answer: the JSON jobpulse answered (captured by the runner into the
// file BENCH_REST_FIXTURE names), for `GET /api/jobs` and `GET /api/jobs/<name>/runs`.
import { readFileSync } from 'node:fs';

/** `{ jobs, runs }`: the bodies of the two routes. */
export const restFixture = JSON.parse(readFileSync(process.env.BENCH_REST_FIXTURE, 'utf8'));
