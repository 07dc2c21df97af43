// Native ESM mode (NODE_OPTIONS=--experimental-vm-modules): NestJS 12 ships ES modules only.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/** A Jest project; its setup file sets JOBPULSE_TEST_DIALECT, which test/support/database.ts reads. */
const project = (name, dialect, color, testMatch, testPathIgnorePatterns = []) => ({
  ...common,
  displayName: { name, color },
  testMatch,
  setupFiles: [`<rootDir>/test/support/dialect/${dialect}.ts`],
  testPathIgnorePatterns: ['/node_modules/', ...testPathIgnorePatterns],
});

// Specs of replicas sharing one database (and of the test cluster itself): PostgreSQL is what they test.
const clusterSpecs = ['cluster-events', 'cluster-scheduling', 'postgres-cluster'].map(
  (name) => `/test/${name}.e2e-spec.ts`,
);

// Three layers, each run where it earns its time: unit specs beside the code (pure, or with stubbed ports) once;
// medium specs (repositories and services on a real database) on both dialects; end-to-end specs against the
// running app on SQLite, and the specs of several replicas on PostgreSQL.
export default {
  testTimeout: 30000,
  // Most of the end-to-end time is spent waiting on real timers and other processes: two workers
  // overlap those waits even on two cores (Jest's default would be one worker there).
  maxWorkers: 2,
  // Starts one throwaway PostgreSQL server for the run (unless JOBPULSE_TEST_POSTGRES_URL names one) and removes it.
  globalSetup: '<rootDir>/test/support/jest-global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.cjs',
  projects: [
    project('unit', 'sqlite', 'white', ['<rootDir>/src/**/*.spec.ts']),
    project('medium:sqlite', 'sqlite', 'blue', ['<rootDir>/test/medium/**/*.spec.ts']),
    project('medium:postgres', 'postgres', 'magenta', ['<rootDir>/test/medium/**/*.spec.ts']),
    project('e2e:sqlite', 'sqlite', 'cyan', ['<rootDir>/test/**/*.e2e-spec.ts'], clusterSpecs),
    project(
      'cluster:postgres',
      'postgres',
      'yellow',
      clusterSpecs.map((spec) => `<rootDir>${spec}`),
    ),
  ],
};
