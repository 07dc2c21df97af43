export { JobRunner, RunnerClosedError, type RunRequest, type RunStart } from './runner/job-runner.js';
