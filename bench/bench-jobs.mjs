// The names of the jobs bench/jobpulse-server.mjs declares, for the runner and the server alike.

/** On demand, doing nothing: each trigger is one run, so two events (job.started, job.succeeded). */
export const NOOP_JOBS = ['bench-noop-0', 'bench-noop-1', 'bench-noop-2', 'bench-noop-3'];

/** Does nothing, on the schedule BENCH_TICK_CRON gives it (`<JOB_NAME>_CRON`); on demand without it. */
export const TICK_JOB = 'bench-tick';
